import Foundation
import KernelRunner

/// `EdgeProfBench pool [threads]`: what one fork/join of the runner's worker pool costs — a
/// `parallelFor` over one task per thread with an empty body, timed back to back — next to the
/// cache-line round trip between the threads' cores (`ThreadPlacement`), measured in the same run.
enum PoolBench {
    static func run(_ args: [String]) -> Int32 {
        let threads = args.first.flatMap(Int.init) ?? 2
        let pool = WorkerPool(threads: threads)
        let placement = ThreadPlacement.probe(threads: threads)
        var sink = [Int](repeating: 0, count: threads * 16)
        let calls = 20_000
        var perCall: [Double] = []
        for _ in 0..<15 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<calls {
                sink.withUnsafeMutableBufferPointer { p in
                    let base = p.baseAddress!
                    pool.parallelFor(threads) { task, _ in base[task * 16] &+= 1 }
                }
            }
            perCall.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(calls))
        }
        perCall.sort()
        let rt = placement.map { String(format: "%.0f ns", $0.roundTripNs) } ?? "n/a"
        print(String(format: "fork/join of %d threads (empty tasks): median %.0f ns, min %.0f ns per call over 15 × %d calls; core round trip %@",
                     threads, perCall[perCall.count / 2], perCall[0], calls, rt))
        return sink.reduce(0, +) > 0 ? 0 : 1
    }
}
