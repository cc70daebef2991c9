// OffloadPlanner: split-computing planners over device → edge → cloud.
