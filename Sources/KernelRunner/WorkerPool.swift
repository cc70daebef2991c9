import Foundation
import Synchronization

/// A fixed set of threads that run the parallel parts of our kernels: the caller plus
/// `threadCount - 1` persistent workers. Hand-off is an atomic generation counter that idle
/// workers spin on briefly before sleeping, because a model run has ~50–150 parallel regions
/// and waking a sleeping thread per region (as `DispatchQueue.concurrentPerform` does when
/// its threads have parked) costs tens of microseconds each.
///
/// OpenBLAS is pinned to one thread while a pool exists (see `BLASThreads`); a GEMM is split
/// across this pool instead, so the two never run more threads than `threadCount`.
public final class WorkerPool: @unchecked Sendable {
    public let threadCount: Int
    private let state: PoolState

    public init(threads: Int) {
        threadCount = Swift.max(1, threads)
        state = PoolState()
        for i in 1..<threadCount {
            let t = Thread { [state] in state.workerLoop(index: i) }
            t.name = "edgeprof-worker-\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    deinit { state.stop() }

    /// Calls `body(task, thread)` for every `task` in `0..<count`, spread over the pool; `thread`
    /// (in `0..<threadCount`) indexes per-thread scratch. Returns when all are done. Tasks are
    /// handed out dynamically (an atomic counter), so uneven tasks balance.
    public func parallelFor(_ count: Int, _ body: (_ task: Int, _ thread: Int) -> Void) {
        if threadCount == 1 || count <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            state.dispatch(count: count, workers: threadCount - 1, escapable)
        }
    }

    /// Splits `0..<total` into about `threadCount × chunksPerThread` contiguous ranges of at
    /// least `grain` items and runs them in parallel.
    public func parallelRanges(_ total: Int, grain: Int = 1, chunksPerThread: Int = 1, _ body: (_ range: Range<Int>, _ thread: Int) -> Void) {
        guard total > 0 else { return }
        let maxChunks = Swift.max(1, total / Swift.max(1, grain))
        let chunks = Swift.min(maxChunks, threadCount * chunksPerThread)
        if chunks <= 1 {
            body(0..<total, 0)
            return
        }
        parallelFor(chunks) { c, thread in
            let lo = total * c / chunks
            let hi = total * (c + 1) / chunks
            if hi > lo { body(lo..<hi, thread) }
        }
    }
}

/// Shared between the pool and its threads (the threads must not own the pool).
private final class PoolState: @unchecked Sendable {
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let nextTask = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var sleepers = 0
    /// Written by the dispatching thread before the generation is published (release), read by
    /// workers after they observe it (acquire).
    private var job: ((Int, Int) -> Void)?
    private var taskCount = 0
    /// ~50–100 µs of spinning before a worker parks.
    private let spinLimit = 200_000

    func dispatch(count: Int, workers: Int, _ body: @escaping (Int, Int) -> Void) {
        job = body
        taskCount = count
        nextTask.store(0, ordering: .relaxed)
        remaining.store(workers, ordering: .relaxed)
        condition.lock()
        generation.add(1, ordering: .releasing)
        if sleepers > 0 { condition.broadcast() }
        condition.unlock()
        drain(body, thread: 0)
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > 1_000_000 { sched_yield() }
        }
        job = nil
    }

    private func drain(_ body: (Int, Int) -> Void, thread: Int) {
        let n = taskCount
        while true {
            let i = nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= n { return }
            body(i, thread)
        }
    }

    func workerLoop(index: Int) {
        // Generation 0 is the pool's state at creation: a worker that starts late must still
        // see the first dispatch as new (reading the counter here would miss it and deadlock).
        var seen = 0
        while true {
            var spins = 0
            var g = generation.load(ordering: .acquiring)
            while g == seen {
                if stopping.load(ordering: .relaxed) { return }
                spins += 1
                if spins > spinLimit {
                    condition.lock()
                    while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) {
                        sleepers += 1
                        condition.wait()
                        sleepers -= 1
                    }
                    condition.unlock()
                    spins = 0
                }
                g = generation.load(ordering: .acquiring)
            }
            seen = g
            if stopping.load(ordering: .relaxed) { return }
            if let job { drain(job, thread: index) }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    func stop() {
        condition.lock()
        stopping.store(true, ordering: .relaxed)
        condition.broadcast()
        condition.unlock()
    }
}
