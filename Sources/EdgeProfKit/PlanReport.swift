import Foundation
import NNGraph
import OffloadPlanner
import RuntimeSimulator

// The `edgeprof plan` / `simulate` JSON contracts (README "Split computing: plan and simulate").
// SI units (seconds, joules, bytes, bit/s, watts), snake_case keys, `schema_version` bumps on a
// breaking change. Plain Codable records: renderers and stores need nothing else.

public struct PlanTierRecord: Codable, Sendable, Hashable {
    public var index: Int
    public var name: String
    public var deviceID: String
    public var deviceName: String
    public var unit: String
    public var precision: String
    enum CodingKeys: String, CodingKey {
        case index, name, unit, precision
        case deviceID = "device_id"
        case deviceName = "device_name"
    }
}

public struct PlanLinkRecord: Codable, Sendable, Hashable {
    public var index: Int
    public var id: String
    public var name: String
    public var from: String
    public var to: String
    public var uplinkBitsPerS: Double
    public var downlinkBitsPerS: Double
    public var rttS: Double
    public var jitterMeanS: Double
    public var loss: Double
    public var radio: Bool
    public var trace: String?
    enum CodingKeys: String, CodingKey {
        case index, id, name, from, to, loss, radio, trace
        case uplinkBitsPerS = "uplink_bits_per_s"
        case downlinkBitsPerS = "downlink_bits_per_s"
        case rttS = "rtt_s"
        case jitterMeanS = "jitter_mean_s"
    }
}

public struct PlanConstraintRecord: Codable, Sendable, Hashable {
    public var deviceMemoryBytes: Double?
    public var deadlineS: Double?
    public var maxUplinkBytes: Double?
    public var pinnedKernels: [String]
    enum CodingKeys: String, CodingKey {
        case deviceMemoryBytes = "device_memory_bytes"
        case deadlineS = "deadline_s"
        case maxUplinkBytes = "max_uplink_bytes"
        case pinnedKernels = "pinned_kernels"
    }
}

public struct PlannerRecord: Codable, Sendable, Hashable {
    public var name: String
    public var summary: String
    /// "exact", "best_found" or "infeasible".
    public var optimality: String
    public var scope: String?
    public var lowerBound: Double?
    public var work: Int
    enum CodingKeys: String, CodingKey {
        case name, summary, optimality, scope, work
        case lowerBound = "lower_bound"
    }
}

public struct PlanTotalsRecord: Codable, Sendable, Hashable {
    public var latencyS: Double
    public var deviceEnergyJ: Double
    /// Time per request of the busiest pipeline stage.
    public var periodS: Double
    public var throughputPerS: Double
    public var bottleneck: String
    public var devicePeakMemoryBytes: Double
    public var uplinkBytes: Double
    public var computeS: Double
    public var transferS: Double
    public var propagationS: Double
    public var objectiveValue: Double
    enum CodingKeys: String, CodingKey {
        case bottleneck
        case latencyS = "latency_s"
        case deviceEnergyJ = "device_energy_j"
        case periodS = "period_s"
        case throughputPerS = "throughput_per_s"
        case devicePeakMemoryBytes = "device_peak_memory_bytes"
        case uplinkBytes = "uplink_bytes"
        case computeS = "compute_s"
        case transferS = "transfer_s"
        case propagationS = "propagation_s"
        case objectiveValue = "objective_value"
    }

    init(_ p: PlanningProblem, _ m: PlanMetrics) {
        latencyS = m.latency.value
        deviceEnergyJ = m.deviceEnergy.value
        periodS = m.period.value
        throughputPerS = m.throughput
        devicePeakMemoryBytes = m.devicePeakMemory.value
        uplinkBytes = m.uplinkBytes.value
        computeS = m.tierCompute.reduce(Seconds.zero, +).value
        transferS = (m.hopUpTime + m.hopDownTime).reduce(Seconds.zero, +).value
        propagationS = m.propagation.value
        objectiveValue = p.objectiveValue(m)
        var stages: [(String, Double)] = p.tiers.indices.map { ("\(p.tiers[$0].name) compute", m.tierCompute[$0].value) }
        for (h, hop) in p.hops.enumerated() {
            stages.append(("\(hop.name) up", m.hopUpBusy[h].value))
            stages.append(("\(hop.name) down", m.hopDownBusy[h].value))
        }
        bottleneck = stages.max { $0.1 < $1.1 }?.0 ?? "-"
    }
}

public struct TierUseRecord: Codable, Sendable, Hashable {
    public var tier: String
    public var kernels: Int
    public var computeS: Double
    /// Kernel runs in execution order, e.g. "features.0.0…features.3.add".
    public var runs: [String]
    enum CodingKeys: String, CodingKey {
        case tier, kernels, runs
        case computeS = "compute_s"
    }
}

public struct TransferRow: Codable, Sendable, Hashable {
    public var tensor: String
    public var link: String
    public var direction: String
    public var fromTier: String
    public var toTier: String
    public var bytes: Double
    public var timeS: Double
    enum CodingKeys: String, CodingKey {
        case tensor, link, direction, bytes
        case fromTier = "from_tier"
        case toTier = "to_tier"
        case timeS = "time_s"
    }
}

public struct KernelPlacementRecord: Codable, Sendable, Hashable {
    public var index: Int
    public var name: String
    public var kind: String
    public var tier: String
}

public struct PlanRecord: Codable, Sendable, Hashable {
    public var summary: String
    public var split: String?
    public var totals: PlanTotalsRecord
    public var tiers: [TierUseRecord]
    public var transfers: [TransferRow]
    public var placement: [KernelPlacementRecord]
}

public struct AlternativeRecord: Codable, Sendable, Hashable {
    public var name: String
    public var summary: String
    public var feasible: Bool
    public var totals: PlanTotalsRecord
    public var verdict: String
}

public struct PlanModelRecord: Codable, Sendable, Hashable {
    public var name: String
    public var source: String
    public var macs: Int
    public var params: Int
    public var kernels: Int
    public var cutTensors: Int
    enum CodingKeys: String, CodingKey {
        case name, source, macs, params, kernels
        case cutTensors = "cut_tensors"
    }
}

public struct PlanReport: Codable, Sendable, Hashable {
    public static let currentSchemaVersion = 1
    public var schemaVersion: Int
    public var tool: String
    /// Kernel costs are `predicted` (cost model) or `scaled` (host measurement × tier/host prediction); links from their files.
    public var provenance: String
    /// For scaled costs: the host measurement they came from.
    public var costNote: String?
    public var scenario: String
    public var scenarioFile: String
    public var model: PlanModelRecord
    public var objective: String
    public var tiers: [PlanTierRecord]
    public var links: [PlanLinkRecord]
    public var constraints: PlanConstraintRecord
    public var compression: String
    public var planner: PlannerRecord
    public var feasible: Bool
    public var infeasibleReason: String?
    public var plan: PlanRecord?
    public var alternatives: [AlternativeRecord]
    enum CodingKeys: String, CodingKey {
        case tool, provenance, scenario, model, objective, tiers, links, constraints, compression, planner, feasible, plan, alternatives
        case costNote = "cost_note"
        case schemaVersion = "schema_version"
        case scenarioFile = "scenario_file"
        case infeasibleReason = "infeasible_reason"
    }
}

public struct SweepPlanRecord: Codable, Sendable, Hashable {
    public var id: Int
    public var summary: String
    public var split: String?
    public var placement: [Int]
}

public struct SweepIntervalRecord: Codable, Sendable, Hashable {
    public var fromBitsPerS: Double
    public var toBitsPerS: Double
    /// nil: no feasible plan in this range.
    public var plan: Int?
    enum CodingKeys: String, CodingKey {
        case plan
        case fromBitsPerS = "from_bits_per_s"
        case toBitsPerS = "to_bits_per_s"
    }
}

public struct SweepPointRecord: Codable, Sendable, Hashable {
    public var bandwidthBitsPerS: Double
    public var plan: Int?
    public var objectiveValue: Double?
    public var latencyS: Double?
    public var deviceEnergyJ: Double?
    enum CodingKeys: String, CodingKey {
        case plan
        case bandwidthBitsPerS = "bandwidth_bits_per_s"
        case objectiveValue = "objective_value"
        case latencyS = "latency_s"
        case deviceEnergyJ = "device_energy_j"
    }
}

public struct SweepReport: Codable, Sendable, Hashable {
    public static let currentSchemaVersion = 1
    public var schemaVersion: Int
    public var tool: String
    public var provenance: String
    public var scenario: String
    public var model: PlanModelRecord
    public var objective: String
    public var planner: String
    public var link: PlanLinkRecord
    public var method: String
    public var solves: Int
    public var plans: [SweepPlanRecord]
    public var intervals: [SweepIntervalRecord]
    public var switchPointsBitsPerS: [Double]
    public var points: [SweepPointRecord]
    enum CodingKeys: String, CodingKey {
        case tool, provenance, scenario, model, objective, planner, link, method, solves, plans, intervals, points
        case schemaVersion = "schema_version"
        case switchPointsBitsPerS = "switch_points_bits_per_s"
    }
}

public struct SimulationConfigRecord: Codable, Sendable, Hashable {
    public var arrivals: String
    public var fps: Double?
    public var rate: Double?
    public var frames: Int
    public var clients: Int
    public var seed: UInt64
    public var deadlineS: Double?
    public var sharedUplink: Bool
    public var replan: Bool
    public var switchingCostS: Double
    enum CodingKeys: String, CodingKey {
        case arrivals, fps, rate, frames, clients, seed, replan
        case deadlineS = "deadline_s"
        case sharedUplink = "shared_uplink"
        case switchingCostS = "switching_cost_s"
    }
}

public struct SimulationResultsRecord: Codable, Sendable, Hashable {
    public var completed: Int
    public var dropped: Int
    public var latencyMeanS: Double
    public var latencyP50S: Double
    public var latencyP90S: Double
    public var latencyP99S: Double
    public var latencyMaxS: Double
    public var missRate: Double?
    public var throughputPerS: Double
    public var energyPerRequestJ: Double
    public var averageDevicePowerW: Double
    public var makespanS: Double
    public var switches: Int
    public var events: Int
    enum CodingKeys: String, CodingKey {
        case completed, dropped, switches, events
        case latencyMeanS = "latency_mean_s"
        case latencyP50S = "latency_p50_s"
        case latencyP90S = "latency_p90_s"
        case latencyP99S = "latency_p99_s"
        case latencyMaxS = "latency_max_s"
        case missRate = "miss_rate"
        case throughputPerS = "throughput_per_s"
        case energyPerRequestJ = "energy_per_request_j"
        case averageDevicePowerW = "average_device_power_w"
        case makespanS = "makespan_s"
    }
}

public struct ResourceRecord: Codable, Sendable, Hashable {
    public var name: String
    public var utilisation: Double
    public var meanQueue: Double
    public var maxQueue: Int
    public var jobs: Int
    enum CodingKeys: String, CodingKey {
        case name, utilisation, jobs
        case meanQueue = "mean_queue"
        case maxQueue = "max_queue"
    }
}

public struct TimelineRecord: Codable, Sendable, Hashable {
    public var startS: Double
    public var endS: Double
    public var utilisation: [Double]
    public var meanQueue: [Double]
    public var completed: Int
    enum CodingKeys: String, CodingKey {
        case utilisation, completed
        case startS = "start_s"
        case endS = "end_s"
        case meanQueue = "mean_queue"
    }
}

public struct SimulationReport: Codable, Sendable, Hashable {
    public static let currentSchemaVersion = 1
    public var schemaVersion: Int
    public var tool: String
    /// "simulated": a discrete-event run over `costs` kernel costs.
    public var provenance: String
    /// "predicted" or "scaled" (README "Device-parameterised runs").
    public var costs: String
    public var costNote: String?
    public var scenario: String
    public var model: PlanModelRecord
    public var planner: String
    public var plan: String
    public var planned: PlanTotalsRecord
    public var config: SimulationConfigRecord
    public var results: SimulationResultsRecord
    public var resources: [ResourceRecord]
    public var timeline: [TimelineRecord]
    /// Placements used (the first is the initial plan; more with re-planning).
    public var plansUsed: [String]
    /// Request latencies in equal-width bins (minimum to maximum).
    public var latencyHistogram: [HistogramBinRecord] = []
    /// Busy periods per resource (first client's copy, capped), for `--trace` and stored runs;
    /// nil in `--format json` output.
    public var activity: [ActivityRecord]?
    enum CodingKeys: String, CodingKey {
        case tool, provenance, costs, scenario, model, planner, plan, planned, config, results, resources, timeline, activity
        case costNote = "cost_note"
        case schemaVersion = "schema_version"
        case plansUsed = "plans_used"
        case latencyHistogram = "latency_histogram"
    }
}

public struct HistogramBinRecord: Codable, Sendable, Hashable {
    public var lowS: Double
    public var highS: Double
    public var count: Int
    enum CodingKeys: String, CodingKey {
        case count
        case lowS = "low_s"
        case highS = "high_s"
    }
}

public struct ActivityRecord: Codable, Sendable, Hashable {
    public var resource: String
    /// [start, end] of each busy period, simulated seconds.
    public var spansS: [[Double]]
    public var omitted: Int
    enum CodingKeys: String, CodingKey {
        case resource, omitted
        case spansS = "spans_s"
    }
}

func encodeJSON<T: Encodable>(_ value: T) -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    guard let data = try? enc.encode(value), let s = String(data: data, encoding: .utf8) else { return "{}" }
    return s
}

extension PlanReport {
    public func jsonString() -> String { encodeJSON(self) }
}

extension SweepReport {
    public func jsonString() -> String { encodeJSON(self) }
}

extension SimulationReport {
    public func jsonString() -> String { encodeJSON(self) }
}
