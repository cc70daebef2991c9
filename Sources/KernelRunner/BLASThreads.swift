import COpenBLAS

/// OpenBLAS thread control and build facts.
public enum BLASThreads {
    /// Pins OpenBLAS to `n` threads (`openblas_set_num_threads`).
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(Swift.max(1, n))) }

    public static var current: Int { Int(openblas_get_num_threads()) }

    /// `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
    public static var config: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p).trimmingCharacters(in: " ")
    }

    /// `openblas_get_corename()`: the kernel set OpenBLAS picked for this CPU (e.g. "Zen", "Haswell", "SkylakeX").
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p).trimmingCharacters(in: " ")
    }
}

private extension String {
    func trimmingCharacters(in c: Character) -> String {
        var s = Substring(self)
        while s.first == c { s = s.dropFirst() }
        while s.last == c { s = s.dropLast() }
        return String(s)
    }
}
