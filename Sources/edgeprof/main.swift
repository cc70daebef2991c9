print("edgeprof")
