// RuntimeSimulator: discrete-event simulation of frame streams through a plan.
