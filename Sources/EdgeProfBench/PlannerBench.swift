// `swift run -c release EdgeProfBench planner [scenario]`: split-computing benchmarks against
// the targets of issue 7 (release build; timings only, no assertions).
import EdgeProfKit
import Foundation

enum PlannerBench {
    static func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    static func timed(_ repeats: Int, _ body: () -> Void) -> (median: Double, min: Double) {
        var xs: [Double] = []
        for _ in 0..<repeats {
            let t0 = seconds()
            body()
            xs.append(seconds() - t0)
        }
        xs.sort()
        return (xs[xs.count / 2], xs[0])
    }

    static func line(_ what: String, _ t: (median: Double, min: Double), target: Double) {
        let ratio = t.median / target
        print("\(what): median \(formatSeconds(t.median)), min \(formatSeconds(t.min)); target < \(formatSeconds(target)); "
              + "median/target = \(formatFixed(ratio, decimals: 3)) \(ratio < 1 ? "(met)" : "(MISSED)")")
    }

    static func run(_ arguments: [String]) -> Int32 {
        let scenario = arguments.first ?? "profiles/pi4-wifi-cloud.yaml"
        print("edgeprof bench planner (release build expected; \(ProcessInfo.processInfo.activeProcessorCount) CPUs)")

        // 1. A 1,000-kernel random DAG over three tiers, exact layered min cut.
        var dag = RandomProblem.make(seed: 2024, .init(kernels: 1000, tiers: 3, maxInputs: 3))
        let planner = MultiTierMinCutPlanner()
        var value = 0.0
        _ = planner.plan(dag)
        let t1 = timed(15) { value = planner.plan(dag).objectiveValue }
        print("1,000-kernel DAG, \(dag.tensors.count) tensors, 3 tiers, latency objective: optimum \(formatSeconds(value))")
        line("  plan (multitier-mincut)", t1, target: 0.05)
        dag.objective = .deviceEnergy
        let t1e = timed(15) { value = planner.plan(dag).objectiveValue }
        line("  plan, device-energy objective", t1e, target: 0.05)

        // 2. A 1,000-point bandwidth sweep of resnet50 over the scenario's first link.
        let prepared: PlanWorkflow.Prepared
        do {
            prepared = try PlanWorkflow.prepare(.init(scenarioFile: scenario, model: "resnet50"))
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            return 1
        }
        let p = prepared.problem
        var sweep: SweepResult?
        let lo = BytesPerSecond(0.5e6 / 8), hi = BytesPerSecond(1000e6 / 8)
        let t2 = timed(3) {
            sweep = BandwidthSweep.run(p, hop: 0, from: lo, to: hi, points: 1000, planner: prepared.planner)
        }
        if let s = sweep {
            print("resnet50 on \(prepared.scenario.name) (\(p.kernelCount) kernels, \(p.tierCount) tiers), 1,000 bandwidths 0.5-1000 Mbit/s: "
                  + "\(s.solves) plans solved by \(s.planner), \(s.switchPoints.count) switch points "
                  + s.switchPoints.map { formatRate($0) }.joined(separator: ", "))
        }
        line("  sweep", t2, target: 1.0)

        // 3. 100,000 simulated frames through the scenario's own plan (its links' jitter, loss and trace).
        let mobile: PlanWorkflow.Prepared
        do { mobile = try PlanWorkflow.prepare(.init(scenarioFile: scenario)) } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            return 1
        }
        let placement = mobile.planner.plan(mobile.problem).placement ?? [Int](repeating: 0, count: mobile.problem.kernelCount)
        let dynamics = mobile.scenario.links.map(HopDynamics.init)
        var sim: SimulationResult?
        let config = SimulationConfig(arrivals: .fps, fps: 30, frames: 100_000, clients: 1, seed: 1)
        let t3 = timed(3) { sim = RuntimeSimulator.run(problem: mobile.problem, placement: placement, dynamics: dynamics, config: config) }
        if let s = sim {
            print("100,000 frames of \(mobile.model.name) at 30 fps through '\(PlanDescription.summary(mobile.problem, placement))': "
                  + "\(s.events) events, p99 \(formatSeconds(s.latencyP99.value))")
        }
        line("  simulate", t3, target: 2.0)
        let config8 = SimulationConfig(arrivals: .poisson, rate: 30, frames: 12_500, clients: 8, seed: 1)
        let t4 = timed(3) { sim = RuntimeSimulator.run(problem: mobile.problem, placement: placement, dynamics: dynamics, config: config8) }
        line("  simulate 8 clients × 12,500 Poisson frames", t4, target: 2.0)
        return 0
    }
}
