import Foundation
import NNGraph
import Reports

/// Text and Markdown rendering of an `AccelReport`.
public enum AccelRenderer {
    public enum Style: Sendable { case plain, markdown }

    static func pct(_ v: Double) -> String { String(format: "%.1f%%", 100 * v) }
    static func signedPct(_ v: Double) -> String { String(format: "%+.2f%%", v) }
    static func joules(_ v: Double) -> String { formatSI(v, unit: "J") }

    public static func render(_ r: AccelReport, style: Style) -> String {
        func table(_ t: TextTable) -> String { style == .plain ? t.plain() : t.markdown() }
        func heading(_ s: String) -> String { style == .plain ? "\(s)\n" : "### \(s)\n" }
        var out: [String] = []
        out.append(heading("\(r.model) on \(r.device): \(r.array) PE array, \(r.dataflow), \(formatSI(r.frequencyHz, unit: "Hz")) (modelled)"))

        var layers = TextTable(headers: ["#", "layer", "kind", "cycles", "util", "time", "RF r/w", "GLB r/w", "DRAM r/w",
                                         "E mac", "E rf", "E glb", "E dram"],
                               aligns: [.right, .left, .left, .right, .right, .right, .right, .right, .right, .right, .right, .right, .right])
        var sums = (mac: 0.0, rf: 0.0, glb: 0.0, dram: 0.0)
        for (i, l) in r.layers.enumerated() {
            layers.add(["\(i)", l.name, l.kind, "\(l.cycles)", pct(l.utilisation), formatSeconds(l.seconds), "\(l.rfReads)/\(l.rfWrites)",
                        "\(l.glbReads)/\(l.glbWrites)", "\(l.dramReads)/\(l.dramWrites)", joules(l.macEnergy), joules(l.rfEnergy),
                        joules(l.glbEnergy), joules(l.dramEnergy)])
            sums = (sums.mac + l.macEnergy, sums.rf + l.rfEnergy, sums.glb + l.glbEnergy, sums.dram + l.dramEnergy)
        }
        layers.add(["", "total", "", "\(r.totalCycles)", "", formatSeconds(r.totalSeconds), "", "", "", joules(sums.mac), joules(sums.rf),
                    joules(sums.glb), joules(sums.dram)])
        out.append(table(layers))
        out.append("Accesses are FP16 elements; GLB counts include fills from and drains to DRAM; energies use the device file's flat per-byte prices.\n")

        out.append(heading("Buffer (\(r.bufferLevel)) energy by content and encoding (modelled; Δ vs the unprotected MLC buffer)"))
        var buf = TextTable(headers: ["buffer / encoding", "weight read", "weight write", "act read", "act write", "read", "write",
                                      "Δweight read", "Δweight write", "Δread", "Δwrite", "weight cells 01/10"],
                            aligns: [.left, .right, .right, .right, .right, .right, .right, .right, .right, .right, .right, .right])
        let none = r.bufferEnergy.first { $0.label.hasSuffix(", none") }
        for b in r.bufferEnergy {
            func delta(_ a: Double, _ base: Double?) -> String { base.map { signedPct(100 * (a - $0) / $0) } ?? "" }
            buf.add([b.label, joules(b.weightRead), joules(b.weightWrite), joules(b.activationRead), joules(b.activationWrite), joules(b.read),
                     joules(b.write), delta(b.weightRead, none?.weightRead), delta(b.weightWrite, none?.weightWrite), delta(b.read, none?.read),
                     delta(b.write, none?.write), b.weightIntermediateFraction.map(pct) ?? "—"])
        }
        out.append(table(buf))

        if !r.sensitivity.isEmpty {
            out.append(heading("Sensitivity of msb-backup + rearrange (both) vs none to each assumed cell value"))
            var s = TextTable(headers: ["parameter", "×", "Δweight read", "Δweight write", "Δbuffer read", "Δbuffer write"],
                              aligns: [.left, .right, .right, .right, .right, .right])
            if let none = r.bufferEnergy.first(where: { $0.label.hasSuffix(", none") }),
               let both = r.bufferEnergy.first(where: { $0.label.hasSuffix(", both") }) {
                s.add(["(as in the device file)", "1", signedPct(100 * (both.weightRead - none.weightRead) / none.weightRead),
                       signedPct(100 * (both.weightWrite - none.weightWrite) / none.weightWrite),
                       signedPct(100 * (both.read - none.read) / none.read), signedPct(100 * (both.write - none.write) / none.write)])
            }
            for row in r.sensitivity {
                s.add([row.parameter, String(format: "%g", row.factor), signedPct(row.weightReadChangePercent), signedPct(row.weightWriteChangePercent),
                       signedPct(row.readChangePercent), signedPct(row.writeChangePercent)])
            }
            out.append(table(s))
        }

        if !r.errors.isEmpty {
            out.append(heading("Bit errors in buffered weights (modelled error rates, measured effect on the kernel runner's outputs)"))
            if let a = r.fp16Top1Agreement { out.append("Error-free FP16 buffer vs FP32 weights: top-1 agreement \(pct(a)).\n") }
            var e = TextTable(headers: ["encoding", "scale", "top-1 agree", "rel. deviation", "cells flipped", "of cells", "MSB corrections"],
                              aligns: [.left, .right, .right, .right, .right, .right, .right])
            for row in r.errors {
                e.add([row.encoding, String(format: "%g", row.scale), pct(row.top1Agreement), String(format: "%.3g", row.relativeDeviation),
                       "\(row.cellsFlipped)", "\(row.cellsStored)", "\(row.corrections)"])
            }
            out.append(table(e))
        }
        out.append(r.notes.map { "- \($0)" }.joined(separator: "\n"))
        return out.joined(separator: "\n") + "\n"
    }
}
