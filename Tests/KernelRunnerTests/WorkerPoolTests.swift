import Foundation
import Synchronization
import NNGraph
import Testing
@testable import KernelRunner

@Suite struct WorkerPoolTests {
    /// Every task of every dispatch runs exactly once, on a valid thread index, across many
    /// back-to-back dispatches of varying size (the claim word must not let a late worker run a
    /// task of a newer dispatch twice or skip one).
    @Test(arguments: [2, 3, 4])
    func everyTaskRunsExactlyOnce(threads: Int) {
        let pool = WorkerPool(threads: threads)
        for round in 0..<2_000 {
            let count = [1, 2, 3, 7, 64, 257][round % 6]
            let hits = Mutex([Int](repeating: 0, count: count))
            let badThread = Atomic<Int>(0)
            pool.parallelFor(count) { task, thread in
                hits.withLock { $0[task] += 1 }
                if thread < 0 || thread >= threads { badThread.add(1, ordering: .relaxed) }
            }
            let counts = hits.withLock { $0 }
            let wrong = counts.indices.filter { counts[$0] != 1 }
            #expect(wrong.isEmpty, "round \(round), count \(count): tasks \(wrong.prefix(5)) ran ≠ 1 times")
            #expect(badThread.load(ordering: .relaxed) == 0)
            if !wrong.isEmpty { return }
        }
    }

    /// Thread scratch: one buffer per thread, reserved up front, disjoint, at the same address on
    /// every request that fits, grown (keeping nothing) on a larger one; `initialized` only when the
    /// same owner asked last on that thread, so a step can keep a border it filled once.
    @Test(arguments: [2, 3])
    func threadScratchIsPrivateStableAndTracksItsOwner(threads: Int) {
        final class Owner {}
        let pool = WorkerPool(threads: threads)
        let a = Owner(), b = Owner()
        // One request per thread index, made in turn from this thread (a dispatch may run two tasks
        // on one thread, which would then ask twice); each buffer is written to its full length.
        func request(floats: Int, owner: AnyObject?) -> [Int: (Int, Bool)] {
            var seen: [Int: (Int, Bool)] = [:]
            for thread in 0..<threads {
                let (p, kept) = pool.threadScratch(thread, floats: floats, owner: owner)
                p.update(repeating: Float(thread), count: floats)
                seen[thread] = (Int(bitPattern: p), kept)
            }
            return seen
        }
        pool.reserveThreadScratch(floats: 2000)
        #expect(pool.threadScratchFloats == 2000)
        let first = request(floats: 1000, owner: a)
        #expect(first.values.allSatisfy { !$0.1 }, "a first request keeps nothing")
        let addresses = first.values.map(\.0).sorted()
        for (x, y) in zip(addresses, addresses.dropFirst()) { #expect(y - x >= 2000 * 4, "thread buffers overlap") }
        pool.reserveThreadScratch(floats: 1500)   // already there: nothing moves, nothing is forgotten
        let again = request(floats: 1000, owner: a)
        for (t, v) in again { #expect(v.0 == first[t]?.0 && v.1, "thread \(t): same owner, same buffer, kept") }
        let other = request(floats: 500, owner: b)
        for (t, v) in other { #expect(v.0 == first[t]?.0 && !v.1, "thread \(t): another owner in between") }
        let anonymous = request(floats: 500, owner: nil)
        for (_, v) in anonymous { #expect(!v.1) }
        let back = request(floats: 1000, owner: a)
        for (_, v) in back { #expect(!v.1, "owner b and an anonymous request ran since a's") }
        let grown = request(floats: 100_000, owner: a)
        for (_, v) in grown { #expect(!v.1, "a grown buffer keeps nothing") }
        #expect(pool.threadScratchFloats >= 100_000)
    }

    /// Affine and plain dispatches interleaved (the affine claim word keeps the generation of
    /// the last affine dispatch while plain ones run): every task exactly once, including counts
    /// above the affine limit (run as plain dispatches) and below the thread count.
    @Test(arguments: [2, 3, 4])
    func affineDispatchesRunEveryTaskExactlyOnce(threads: Int) {
        let pool = WorkerPool(threads: threads)
        for round in 0..<3_000 {
            let count = [1, 2, 3, 5, 8, 32, 33, 7][round % 8]
            let affine = round % 3 != 2
            let hits = Mutex([Int](repeating: 0, count: count))
            pool.parallelFor(count, affine: affine) { task, thread in
                hits.withLock { $0[task] += 1 }
                #expect(thread >= 0 && thread < threads)
            }
            let counts = hits.withLock { $0 }
            let wrong = counts.indices.filter { counts[$0] != 1 }
            #expect(wrong.isEmpty, "round \(round), count \(count), affine \(affine): tasks \(wrong.prefix(5)) ran ≠ 1 times")
            if !wrong.isEmpty { return }
        }
    }

    /// In an affine dispatch a worker starts on its own block of tasks: with 8 tasks of ~200 µs
    /// on 2 threads the worker's first task is one of 4…7. The caller runs 0…3 before it steals
    /// 7, 6, 5, 4, so whenever the worker gets a task at all its first is in its block (a plain
    /// dispatch hands it the next unclaimed task, usually 1).
    @Test func affineDispatchStartsEachThreadOnItsOwnBlock() {
        let pool = WorkerPool(threads: 2)
        var firsts: [Int] = []
        for _ in 0..<200 where firsts.count < 8 {
            let first = Mutex<Int?>(nil)
            pool.parallelFor(8, affine: true) { task, thread in
                if thread == 1 { first.withLock { if $0 == nil { $0 = task } } }
                let end = DispatchTime.now().uptimeNanoseconds + 200_000
                while DispatchTime.now().uptimeNanoseconds < end {}
            }
            if let f = first.withLock({ $0 }) { firsts.append(f) }
        }
        #expect(!firsts.isEmpty, "the worker never ran a task")
        #expect(firsts.allSatisfy { $0 >= 4 }, "worker's first tasks: \(firsts)")
    }

    /// Counts above one dispatch's capacity (2^20 − 1 tasks) are run as several dispatches.
    @Test func countsAboveOneDispatchAreCovered() {
        let pool = WorkerPool(threads: 2)
        let count = (1 << 20) + 5
        let sum = Atomic<Int>(0)
        let calls = Atomic<Int>(0)
        pool.parallelFor(count) { task, _ in
            sum.add(task, ordering: .relaxed)
            calls.add(1, ordering: .relaxed)
        }
        #expect(calls.load(ordering: .relaxed) == count)
        #expect(sum.load(ordering: .relaxed) == count * (count - 1) / 2)
    }

    /// parallelRanges tiles 0..<total with disjoint, contiguous ranges (affine or not).
    @Test(arguments: [false, true])
    func rangesTileTheInterval(affine: Bool) {
        let pool = WorkerPool(threads: 2)
        for total in [1, 5, 100, 12_345] {
            let hits = Mutex([Int](repeating: 0, count: total))
            pool.parallelRanges(total, grain: 3, chunksPerThread: 4, affine: affine) { r, _ in
                hits.withLock { for i in r { $0[i] += 1 } }
            }
            #expect(hits.withLock { $0 }.allSatisfy { $0 == 1 }, "total \(total)")
        }
    }

    /// `ParallelSplit.ranges`, the rule the cost model prices the dispatch by, counts the ranges
    /// `parallelRanges` really runs (one range: the calling thread alone).
    @Test func parallelSplitCountsTheRangesThePoolRuns() {
        for threads in [1, 2, 4] {
            let pool = WorkerPool(threads: threads)
            for (total, grain) in [(1, 1), (3, 4), (8, 4), (9, 4), (72, 5), (3, 1), (32, 16), (31, 16), (512, 256), (1152, 1), (4096, 4096)] {
                let ranges = Mutex(0)
                pool.parallelRanges(total, grain: grain) { _, _ in ranges.withLock { $0 += 1 } }
                #expect(ranges.withLock { $0 } == ParallelSplit.ranges(total, grain: grain, threads: threads), "\(total)/\(grain) on \(threads)")
            }
        }
    }

    /// Row blocks make (matrices × blocks) a multiple of the thread count, never below the
    /// minimum block height, and are 1 on one thread.
    @Test func rowBlocksBalanceOddMatrixCounts() {
        let two = WorkerPool(threads: 2), four = WorkerPool(threads: 4), one = WorkerPool(threads: 1)
        #expect(two.rowBlocks(matrices: 3, rows: 197) == 2)
        #expect(two.rowBlocks(matrices: 6, rows: 197) == 1)
        #expect(two.rowBlocks(matrices: 1, rows: 197) == 2)
        #expect(two.rowBlocks(matrices: 3, rows: 20) == 1, "20 rows do not make two 16-row blocks")
        #expect(four.rowBlocks(matrices: 6, rows: 197) == 2)
        #expect(four.rowBlocks(matrices: 3, rows: 197) == 4)
        #expect(four.rowBlocks(matrices: 3, rows: 40) == 2)
        #expect(one.rowBlocks(matrices: 3, rows: 197) == 1)
    }
}
