import CKernels
import Foundation
import NNGraph
import Synchronization

/// A fixed set of threads that run the parallel parts of our kernels: the caller plus
/// `threadCount - 1` persistent workers. Hand-off is an atomic word (generation, task count,
/// next task) that idle workers spin on briefly before sleeping; the caller takes tasks too and
/// waits only for tasks a worker has claimed, because a model run has ~50–150 parallel regions
/// and waking a sleeping thread per region (as `DispatchQueue.concurrentPerform` does when
/// its threads have parked) costs tens of microseconds each.
///
/// OpenBLAS is pinned to one thread while a pool exists (see `BLASThreads`); a GEMM is split
/// across this pool instead, so the two never run more threads than `threadCount`.
public final class WorkerPool: @unchecked Sendable {
    public let threadCount: Int
    private let state: PoolState
    /// One `ThreadScratch` per thread, 64 bytes apart (no two threads' records share a cache line);
    /// slot `t` is only ever read or written by thread `t`.
    private let scratchSlots: UnsafeMutablePointer<ThreadScratch>

    public init(threads: Int) {
        threadCount = Swift.max(1, threads)
        state = PoolState(threads: threadCount)
        scratchSlots = UnsafeMutableRawPointer.allocate(byteCount: threadCount * ThreadScratch.stride, alignment: 64)
            .bindMemory(to: ThreadScratch.self, capacity: threadCount * ThreadScratch.stride / MemoryLayout<ThreadScratch>.stride)
        for t in 0..<threadCount { slot(t).initialize(to: ThreadScratch()) }
        for i in 1..<threadCount {
            let t = Thread { [state] in state.workerLoop(index: i) }
            t.name = "edgeprof-worker-\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    deinit {
        state.stop()
        for t in 0..<threadCount { if let p = slot(t).pointee.pointer { ck_free(p) } }
        UnsafeMutableRawPointer(scratchSlots).deallocate()
    }

    private func slot(_ thread: Int) -> UnsafeMutablePointer<ThreadScratch> {
        (UnsafeMutableRawPointer(scratchSlots) + thread * ThreadScratch.stride).assumingMemoryBound(to: ThreadScratch.self)
    }

    /// Scratch private to `thread` (the `thread` argument of a `parallelFor` body, called from that
    /// body): at least `floats` floats, 64-byte aligned, at the same address in every step until a
    /// step asks for more (then it is reallocated, keeping nothing). Why: a buffer shared by all
    /// steps and cut differently by each (a Winograd layer's per-thread V and M at an offset that
    /// depends on its padded input, then another layer's) has thread 1 write lines thread 0 wrote last; every such write fetches the line
    /// from the other core first, which on this VM's far-apart vCPU placement (300–550 ns round
    /// trip) made resnet18 at 2 threads 1.5× slower per layer (giving each step a scratch of its
    /// own: 22.7–24.8 → 20.7–21.6 ms). Here each thread's scratch only ever holds its own lines.
    ///
    /// `owner` (the step asking): `initialized` is true when the last request on this thread came
    /// from the same owner, so contents the owner left there (a zero border) are still in place.
    public func threadScratch(_ thread: Int, floats: Int, owner: AnyObject? = nil) -> (pointer: UnsafeMutablePointer<Float>, initialized: Bool) {
        let s = slot(thread)
        let id = owner.map { UInt(bitPattern: ObjectIdentifier($0)) } ?? 0
        var kept = id != 0 && s.pointee.owner == id
        if s.pointee.capacity < floats || s.pointee.pointer == nil {
            if let p = s.pointee.pointer { ck_free(p) }
            let capacity = Swift.max(floats, 16)
            s.pointee.pointer = allocateFloats(capacity)
            s.pointee.capacity = capacity
            kept = false
        }
        s.pointee.owner = id
        return (s.pointee.pointer!, kept)
    }

    /// `thread`'s scratch of `floats` floats, all of it `fill` unless `owner` asked last on this
    /// thread (a bordered plane whose copies write only its interior keeps its border between uses).
    public func threadScratch(_ thread: Int, floats: Int, filledWith fill: Float, owner: AnyObject) -> UnsafeMutablePointer<Float> {
        let (p, kept) = threadScratch(thread, floats: floats, owner: owner)
        if !kept { p.update(repeating: fill, count: floats) }
        return p
    }

    /// Gives every thread's scratch at least `floats` floats now (a compiled model reserves its
    /// largest step's need, so no run allocates; a request can still grow it). Call it from the
    /// thread that owns the pool, outside `parallelFor`.
    public func reserveThreadScratch(floats: Int) {
        for t in 0..<threadCount where slot(t).pointee.capacity < floats { _ = threadScratch(t, floats: floats) }
    }

    /// Floats of private scratch each thread holds now (the largest any step asked for).
    public var threadScratchFloats: Int { (0..<threadCount).map { slot($0).pointee.capacity }.max() ?? 0 }

    /// Most tasks one affine dispatch takes (`PoolState.maxAffineTasks`).
    public static let maxAffineTasks = PoolState.maxAffineTasks

    /// Calls `body(task, thread)` for every `task` in `0..<count`, spread over the pool; `thread`
    /// (in `0..<threadCount`) indexes per-thread scratch. Returns when all are done. Tasks are
    /// handed out dynamically (an atomic counter), so uneven tasks balance.
    ///
    /// `affine`: task `i` belongs to thread `i × threadCount / count` (contiguous blocks, as
    /// `parallelRanges` cuts them), and each thread runs its own tasks first, then takes what is
    /// left of the others' (so a descheduled worker's share still gets done by whoever is free).
    /// Two affine regions over the same block structure (a 1×1 conv split by output channels, then
    /// a depthwise conv split by channels) thus run each block on the thread that wrote its input,
    /// which reads it from its own cache instead of the other core's. At most
    /// `PoolState.maxAffineTasks` tasks (more run unaffine).
    public func parallelFor(_ count: Int, affine: Bool = false, _ body: (_ task: Int, _ thread: Int) -> Void) {
        if threadCount == 1 || count <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            if affine && count <= PoolState.maxAffineTasks {
                state.dispatch(count: count, affine: true, escapable)
                return
            }
            var start = 0
            while start < count {
                let n = Swift.min(count - start, PoolState.maxTasks)
                if start == 0 {
                    state.dispatch(count: n, escapable)
                } else {
                    let offset = start
                    state.dispatch(count: n) { i, thread in escapable(offset + i, thread) }
                }
                start += n
            }
        }
    }

    /// Row blocks per matrix so that `matrices` independent products (heads, batch entries) split
    /// evenly over the pool: 1 when `matrices` is a multiple of the thread count, else enough
    /// blocks that `matrices × blocks` is (3 heads on 2 threads: 2 blocks each, 6 equal tasks
    /// instead of 3 tasks where one thread runs two), with blocks of at least `minRows` rows.
    public func rowBlocks(matrices: Int, rows: Int, minRows: Int = 16) -> Int {
        guard threadCount > 1, matrices > 0 else { return 1 }
        var a = matrices, b = threadCount
        while b != 0 { (a, b) = (b, a % b) }
        return Swift.max(1, Swift.min(threadCount / a, rows / Swift.max(1, minRows)))
    }

    /// Splits `0..<total` into about `threadCount × chunksPerThread` contiguous ranges of at
    /// least `grain` items and runs them in parallel.
    /// `affine`: as for `parallelFor` (thread t runs the t-th contiguous block of ranges first).
    public func parallelRanges(_ total: Int, grain: Int = 1, chunksPerThread: Int = 1, affine: Bool = false,
                               _ body: (_ range: Range<Int>, _ thread: Int) -> Void) {
        guard total > 0 else { return }
        let chunks = ParallelSplit.ranges(total, grain: grain, threads: threadCount * chunksPerThread)
        if chunks <= 1 {
            body(0..<total, 0)
            return
        }
        parallelFor(chunks, affine: affine) { c, thread in
            let r = Self.part(c, of: chunks, in: total)
            if !r.isEmpty { body(r, thread) }
        }
    }

    /// Part `index` of `0..<total` cut into `parts` contiguous near-equal ranges.
    @inline(__always)
    static func part(_ index: Int, of parts: Int, in total: Int) -> Range<Int> {
        (total * index / parts)..<(total * (index + 1) / parts)
    }
}

/// Thread-private scratch record (`WorkerPool.threadScratch`).
private struct ThreadScratch {
    static let stride = 64
    var pointer: UnsafeMutablePointer<Float>? = nil
    var capacity = 0
    /// `ObjectIdentifier` bits of the last step that asked (0: none).
    var owner: UInt = 0
}

/// Shared between the pool and its threads (the threads must not own the pool).
///
/// One 64-bit word carries a dispatch's generation, task count and next unclaimed task, so a
/// task is claimed with a compare-exchange that fails if a newer dispatch has started. The
/// dispatcher waits only for tasks that were *claimed*: a worker that is still asleep or was
/// preempted before it claimed anything costs nothing (the caller runs its share), which is
/// what keeps a descheduled vCPU from stalling every layer's join on a busy machine.
private final class PoolState: @unchecked Sendable {
    private static let indexBits = 20
    private static let indexMask = (1 << indexBits) - 1
    /// Tasks per dispatch; larger counts are run as several dispatches.
    static let maxTasks = indexMask

    /// Tasks of one affine dispatch (one claim bit each).
    static let maxAffineTasks = 32

    /// `generation << 40 | count << 20 | next`; an affine dispatch starts with `next` = count.
    private let word = Atomic<Int>(0)
    /// Affine dispatches: `generation << 32 | claimed-task bits`, stored before the dispatch's
    /// `word` is published; a claim is a compare-exchange that fails once a newer dispatch has
    /// replaced the generation. Non-affine dispatches leave it alone (its generation is then
    /// stale, so a late worker's claim fails).
    private let affinity = Atomic<Int>(0)
    /// The dispatch of the current generation is affine. Written before `word` is published; read
    /// after a worker saw that generation (and rechecked in every claim through `affinity`'s
    /// generation).
    private var affine = false
    /// The pool's threads (caller included): an affine dispatch's blocks.
    private let threads: Int

    init(threads: Int) { self.threads = threads }
    private let done = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var sleepers = 0
    /// Written by the dispatching thread before the word is published (release); read by a
    /// worker only after it claimed a task of that dispatch (acquire), which keeps the
    /// dispatcher from replacing it until that task is done.
    private var job: ((Int, Int) -> Void)?
    /// Spins (each one PAUSE, ~25 ns on the AMD EPYC VM we measure on) before a worker parks:
    /// ~0.5 ms, longer than the single-threaded stretches between a model's parallel regions.
    private let spinLimit = 20_000

    private static func generation(_ w: Int) -> Int { w >> (2 * indexBits) }
    private static func count(_ w: Int) -> Int { (w >> indexBits) & indexMask }
    private static func next(_ w: Int) -> Int { w & indexMask }

    func dispatch(count: Int, affine: Bool = false, _ body: @escaping (Int, Int) -> Void) {
        precondition(count <= Self.maxTasks && (!affine || count <= Self.maxAffineTasks))
        job = body
        done.store(0, ordering: .relaxed)
        // Only the dispatcher writes the generation bits (workers' claims add to `next`).
        let g = (Self.generation(word.load(ordering: .relaxed)) + 1) & ((1 << 23) - 1)
        self.affine = affine
        // Bits of task numbers ≥ count start set: a worker that read a later dispatch's count
        // can never claim a task this dispatch does not have.
        if affine { affinity.store(g << 32 | (0xFFFF_FFFF & ~((1 << count) - 1)), ordering: .relaxed) }
        condition.lock()
        // An affine dispatch publishes `next` = count: nothing to claim through `word`, so a worker
        // that read this generation with a stale `affine` (false) takes no task here.
        word.store(g << (2 * Self.indexBits) | count << Self.indexBits | (affine ? count : 0), ordering: .releasing)
        if sleepers > 0 { condition.broadcast() }
        condition.unlock()
        if affine {
            runAffine(generation: g, count: count, thread: 0)
        } else {
            runClaimed(generation: g, thread: 0)
        }
        var spins = 0
        while done.load(ordering: .acquiring) < count {
            ck_spin_pause()
            spins += 1
            if spins > 1_000_000 { sched_yield() }
        }
        job = nil
    }

    /// Claims and runs tasks of dispatch `generation` until none is left (or a newer dispatch
    /// has started, which means this one is finished).
    private func runClaimed(generation g: Int, thread: Int) {
        var w = word.load(ordering: .acquiring)
        while Self.generation(w) == g && Self.next(w) < Self.count(w) {
            let (claimed, current) = word.compareExchange(expected: w, desired: w + 1, ordering: .acquiring)
            if claimed {
                job!(Self.next(w), thread)
                done.add(1, ordering: .releasing)
                w = word.load(ordering: .acquiring)
            } else {
                w = current
            }
        }
    }

    /// Affine dispatch `generation`: this thread's own tasks (`i × threads / count == thread`) in
    /// order, then the others' from the last one down (the owner, if it is running, works up
    /// from its first). Stops when a newer dispatch has replaced the generation.
    private func runAffine(generation g: Int, count: Int, thread: Int) {
        let own = (thread * count + threads - 1) / threads..<((thread + 1) * count + threads - 1) / threads
        /// Runs task i if it is still unclaimed; false once the generation has moved on.
        func claim(_ i: Int) -> Bool {
            let bit = 1 << i
            var a = affinity.load(ordering: .acquiring)
            while a >> 32 == g && a & bit == 0 {
                let (claimed, current) = affinity.compareExchange(expected: a, desired: a | bit, ordering: .acquiring)
                if claimed {
                    job!(i, thread)
                    done.add(1, ordering: .releasing)
                    return true
                }
                a = current
            }
            return a >> 32 == g
        }
        for i in own { guard claim(i) else { return } }
        for i in stride(from: count - 1, through: 0, by: -1) where !own.contains(i) { guard claim(i) else { return } }
    }

    func workerLoop(index: Int) {
        // Generation 0 is the pool's state at creation: a worker that starts late must still
        // see the first dispatch as new.
        var seen = 0
        while true {
            var spins = 0
            var g = Self.generation(word.load(ordering: .acquiring))
            while g == seen {
                if stopping.load(ordering: .relaxed) { return }
                ck_spin_pause()
                spins += 1
                if spins > spinLimit {
                    condition.lock()
                    while Self.generation(word.load(ordering: .acquiring)) == seen && !stopping.load(ordering: .relaxed) {
                        sleepers += 1
                        condition.wait()
                        sleepers -= 1
                    }
                    condition.unlock()
                    spins = 0
                }
                g = Self.generation(word.load(ordering: .acquiring))
            }
            seen = g
            if stopping.load(ordering: .relaxed) { return }
            if affine {
                runAffine(generation: g, count: Self.count(word.load(ordering: .acquiring)), thread: index)
            } else {
                runClaimed(generation: g, thread: index)
            }
        }
    }

    func stop() {
        condition.lock()
        stopping.store(true, ordering: .relaxed)
        condition.broadcast()
        condition.unlock()
    }
}
