import NNGraph

extension DeviceProfile {
    /// The same device with only `active` of a compute unit's cores in use (e.g. a benchmark run
    /// with `--threads 1` on a 4-core board). The unit's peak scales by active/cores, and so does
    /// the bandwidth of every memory level on its path except the last (main memory): the
    /// inner levels are per-core or have per-core ports, while one core can still draw most of
    /// the DRAM bandwidth. Efficiencies, overheads, capacities and energies are unchanged.
    /// Returns `self` when `active` is not below the unit's core count.
    public func activatingCores(_ active: Int, unit unitName: String? = nil) -> DeviceProfile {
        guard let index = computeUnits.firstIndex(where: { $0.name == (unitName ?? defaultUnit) }) else { return self }
        let unit = computeUnits[index]
        let total = unit.cores.value
        guard active >= 1, active < total else { return self }
        let fraction = Double(active) / Double(total)
        let note = "derived: \(active) of \(total) cores active"
        var copy = self
        var u = unit
        u.cores = Sourced(active, source: "\(note) (\(unit.cores.source))")
        u.peak = unit.peak.mapValues { Sourced($0.value * fraction, source: "\(note) × (\($0.source))") }
        copy.computeUnits[index] = u
        for name in unit.memoryPath.dropLast() {
            guard let li = copy.memory.firstIndex(where: { $0.name == name }) else { continue }
            let level = copy.memory[li]
            copy.memory[li].bandwidth = Sourced(level.bandwidth.value * fraction, source: "\(note) × (\(level.bandwidth.source))")
        }
        return copy
    }
}
