/// Human-readable summaries of placements ("device: features.0.0…features.3.add (14 kernels) ·
/// edge: features.4.conv.0…classifier.1 (52 kernels)"), shared by renderers and sweeps.
public enum PlanDescription {
    /// Runs of consecutive kernels (execution order) per tier, as kernel index ranges.
    public static func runs(_ placement: [Int], tier: Int) -> [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        var start: Int?
        for (i, k) in placement.enumerated() {
            if k == tier {
                if start == nil { start = i }
            } else if let s = start {
                result.append(s...(i - 1))
                start = nil
            }
        }
        if let s = start { result.append(s...(placement.count - 1)) }
        return result
    }

    /// One line per plan: "all on device", "all on cloud", or each used tier with its runs.
    public static func summary(_ p: PlanningProblem, _ placement: [Int], maxRuns: Int = 3) -> String {
        let used = Set(placement)
        if used.count == 1, let only = used.first { return "all on \(p.tiers[only].name)" }
        var parts: [String] = []
        for k in 0..<p.tierCount where used.contains(k) {
            let r = runs(placement, tier: k)
            let count = placement.filter { $0 == k }.count
            var text = r.prefix(maxRuns).map { range in
                range.count == 1 ? p.kernels[range.lowerBound].name : "\(p.kernels[range.lowerBound].name)…\(p.kernels[range.upperBound].name)"
            }.joined(separator: ", ")
            if r.count > maxRuns { text += ", +\(r.count - maxRuns) more runs" }
            parts.append("\(p.tiers[k].name): \(text) (\(count) kernel\(count == 1 ? "" : "s"))")
        }
        return parts.joined(separator: " · ")
    }

    /// For a plan that is one contiguous split: "split after <kernel>" per boundary; nil otherwise.
    public static func splitPoints(_ p: PlanningProblem, _ placement: [Int]) -> String? {
        guard placement == placement.sorted() else { return nil }
        if Set(placement).count == 1 { return nil }
        var parts: [String] = []
        for i in 1..<placement.count where placement[i] != placement[i - 1] {
            parts.append("\(p.tiers[placement[i - 1]].name) → \(p.tiers[placement[i]].name) after \(p.kernels[i - 1].name)")
        }
        if let first = placement.first, first > 0 { parts.insert("input sent to \(p.tiers[first].name)", at: 0) }
        return parts.joined(separator: "; ")
    }
}
