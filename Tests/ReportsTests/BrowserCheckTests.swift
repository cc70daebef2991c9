import Foundation
import Reports
import RunRecords
import Testing

/// Renders a report in real headless Chromium (Debian package; installed by .ci/run), keeps
/// the screenshot under .build/report-screenshots/, and checks it is not blank and that the
/// page logged no console errors.
@Suite struct BrowserCheckTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func chromium() -> String? {
        for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] where FileManager.default.isExecutableFile(atPath: p) {
            return p
        }
        return nil
    }

    static func run(_ exe: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static let outDir = root.appendingPathComponent(".build/report-screenshots")

    /// Screenshots `html` into `.build/report-screenshots/NAME.png` (kept as a CI artifact) and dumps
    /// its DOM with console logging on: the screenshot's statistics and the browser log.
    static func render(_ html: URL, name: String) throws -> (stats: PNGStats, log: String, status: Int32) {
        let browser = try #require(chromium(), "chromium is not installed: run scripts/install-deps.sh chromium (CI installs it)")
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let png = outDir.appendingPathComponent("\(name).png")
        try? FileManager.default.removeItem(at: png)
        let profile = outDir.appendingPathComponent("chromium-profile-\(UUID().uuidString)")
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)"]
        let (status, _) = try run(browser, common + ["--screenshot=\(png.path)", "--window-size=1280,1600", html.absoluteString])
        // Console errors: chromium logs console messages with --enable-logging=stderr --v=0.
        let (_, log) = try run(browser, common + ["--enable-logging=stderr", "--v=0", "--dump-dom", html.absoluteString])
        return (try pngStats(png), log, status)
    }

    @Test func reportRendersInHeadlessChromiumWithoutErrors() throws {
        try FileManager.default.createDirectory(at: Self.outDir, withIntermediateDirectories: true)
        let html = Self.outDir.appendingPathComponent("sample-report.html")
        var run = sampleRun(layerName: "<script>console.error('injected')</script>")
        run.id = 1
        try HTMLRenderer.render(RunDocumentBuilder.document(for: run)).write(to: html, atomically: true, encoding: .utf8)
        let (stats, log, status) = try Self.render(html, name: "sample-report")
        #expect(status == 0)
        #expect(stats.width == 1280 && stats.height == 1600)
        #expect(stats.nonWhiteFraction > 0.02, "screenshot looks blank: \(stats)")
        #expect(stats.distinctColors > 8, "screenshot has too few colours: \(stats)")
        let consoleLines = log.split(separator: "\n").filter { $0.contains("CONSOLE") }
        #expect(consoleLines.isEmpty, "console output: \(consoleLines)")
        #expect(log.contains("Device comparison"), "DOM did not render the report")
        #expect(!log.contains("Uncaught"))
    }

    /// The committed example reports (device comparison, plan diagram, bandwidth curve, latency
    /// histogram and timeline charts) render without console errors and are not blank.
    @Test(arguments: ["default", "pi4-wifi-cloud-plan", "pi4-wifi-cloud-sweep", "pi4-wifi-cloud-simulate"])
    func exampleReportRendersWithoutErrors(_ name: String) throws {
        let (stats, log, status) = try Self.render(Self.root.appendingPathComponent("reports/\(name).html"), name: name)
        #expect(status == 0)
        #expect(stats.nonWhiteFraction > 0.02 && stats.distinctColors > 8, "screenshot looks blank: \(stats)")
        #expect(log.split(separator: "\n").filter { $0.contains("CONSOLE") }.isEmpty)
        #expect(log.contains("<svg"), "DOM did not render the charts")
    }

    struct PNGStats: CustomStringConvertible {
        var width: Int, height: Int, nonWhiteFraction: Double, distinctColors: Int
        var description: String { "\(width)x\(height), non-white \(nonWhiteFraction), colours \(distinctColors)" }
    }

    /// Decodes the PNG with Python's standard library (zlib), test-time only.
    static func pngStats(_ url: URL) throws -> PNGStats {
        let script = """
        import struct, sys, zlib
        d = open(sys.argv[1], 'rb').read()
        assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
        pos, idat, w, h, ct = 8, b'', 0, 0, 0
        while pos < len(d):
            n, t = struct.unpack('>I4s', d[pos:pos+8]); c = d[pos+8:pos+8+n]; pos += 12 + n
            if t == b'IHDR': w, h, bd, ct = struct.unpack('>IIBB', c[:10])
            elif t == b'IDAT': idat += c
        bpp = {2: 3, 6: 4}[ct]; raw = zlib.decompress(idat); stride = w * bpp
        prev = bytearray(stride); nonwhite = 0; colours = set(); i = 0
        for y in range(h):
            f = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
            for x in range(stride):
                a = line[x-bpp] if x >= bpp else 0; b = prev[x]; cc = prev[x-bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - cc; pa, pb, pc = abs(p-a), abs(p-b), abs(p-cc)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)) & 255
            prev = line
            if y % 4 == 0:
                for x in range(0, w, 4):
                    px = bytes(line[x*bpp:x*bpp+3]); colours.add(px)
                    if px != b'\\xff\\xff\\xff': nonwhite += 1
        print(w, h, nonwhite / ((h // 4 + 1) * (w // 4 + 1)), len(colours))
        """
        let (status, out) = try run("/usr/bin/env", ["python3", "-c", script, url.path])
        #expect(status == 0, "\(out)")
        let parts = out.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 4, let w = Int(parts[0]), let h = Int(parts[1]), let f = Double(parts[2]), let c = Int(parts[3]) else {
            return PNGStats(width: 0, height: 0, nonWhiteFraction: 0, distinctColors: 0)
        }
        return PNGStats(width: w, height: h, nonWhiteFraction: f, distinctColors: c)
    }
}
