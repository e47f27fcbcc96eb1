import JudgeStats

// StatsBench: Cohen's κ, Krippendorff's α (nominal, 2 coders), 1 000-resample accuracy and κ
// bootstraps over 1 000 000 seeded votes; prints seconds and peak RSS.
//
//     swift run -c release StatsBench [votes.bin]
//
// With a path, the votes are also written there (n judge codes then n truth codes, one byte each;
// 0 = A, 1 = B, 2 = tie) so that scripts/bench_stats.sh can run the Python references on the same data.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

let n = 1_000_000
let resamples = 1000

// Seeded votes: truth A/B/tie (45/45/10 %); the judge copies it 75 % of the time, else votes at random.
var rng = SeededGenerator(seed: 2024)
let all = Preference.allCases
var truth = [Preference]()
var judge = [Preference]()
truth.reserveCapacity(n)
judge.reserveCapacity(n)
for _ in 0..<n {
    let u = rng.nextUnit()
    let t: Preference = u < 0.45 ? .a : (u < 0.9 ? .b : .tie)
    truth.append(t)
    judge.append(rng.nextUnit() < 0.75 ? t : all[rng.nextIndex(below: 3)])
}
func code(_ p: Preference) -> UInt8 { p == .a ? 0 : (p == .b ? 1 : 2) }

if CommandLine.arguments.count > 1 {
    let path = CommandLine.arguments[1]
    guard let f = fopen(path, "wb") else { fatalError("cannot write \(path)") }
    let bytes = judge.map(code) + truth.map(code)
    _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

func peakRSSMiB() -> Double {
    guard let f = fopen("/proc/self/status", "r") else { return .nan }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), f) != nil {
        let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if s.hasPrefix("VmHWM:") {
            let kb = s.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }
            return (kb ?? .nan) / 1024
        }
    }
    return .nan
}

let clock = ContinuousClock()
func timed<T>(_ name: String, _ body: () -> T) -> (T, Double) {
    let start = clock.now
    let result = body()
    let d = clock.now - start
    let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    return (result, seconds)
}
func show(_ name: String, _ seconds: Double, _ detail: String) {
    print("swift \(name) \(String(seconds)) s  \(detail)")
}

let (kappa, tKappa) = timed("cohen_kappa") { cohenKappa(judge, truth) }
show("cohen_kappa", tKappa, "kappa=\(kappa)")

let (wkappa, tWKappa) = timed("cohen_kappa_quadratic") { cohenKappa(judge, truth, weights: .quadratic) }
show("cohen_kappa_quadratic", tWKappa, "kappa=\(wkappa)")

let reliability: [[Double?]] = [judge.map { Double(code($0)) }, truth.map { Double(code($0)) }]
let (alpha, tAlpha) = timed("krippendorff_alpha") { krippendorffAlpha(reliability, level: .nominal) }
show("krippendorff_alpha", tAlpha, "alpha=\(alpha)")

let correct = (0..<n).map { judge[$0] == truth[$0] }
let (ci, tBoot) = timed("bootstrap_accuracy") { bootstrapAccuracyCI(correct: correct, resamples: resamples, seed: 0) }
show("bootstrap_accuracy", tBoot, "resamples=\(resamples) ci=\(ci.map { "[\($0.lo), \($0.hi)]" } ?? "nil")")

// κ's bootstrap: resampling the 1e6 pairs is drawing their 3×3 confusion table from a multinomial.
var cells = [Int](repeating: 0, count: 9)
for i in 0..<n { cells[judge[i].denseIndex * 3 + truth[i].denseIndex] += 1 }
let (ciKappa, tBootKappa) = timed("bootstrap_kappa") {
    bootstrapTableCI(cells: cells, resamples: resamples, seed: 0) {
        cohenKappa(flatConfusion: $0, categoryCount: 3).value
    }
}
show(
    "bootstrap_kappa", tBootKappa,
    "resamples=\(resamples) ci=\(ciKappa.map { "[\($0.lo), \($0.hi)]" } ?? "nil") (multinomial table resampling, incl. tabulating)"
)

let values = correct.map { $0 ? 1.0 : 0.0 }
let (ciMean, tMean) = timed("bootstrap_mean") { bootstrapMeanCI(values, resamples: resamples, seed: 0) }
show(
    "bootstrap_mean", tMean,
    "resamples=\(resamples) ci=\(ciMean.map { "[\($0.lo), \($0.hi)]" } ?? "nil") (gathers values at drawn indices)")

let (ciGeneric, tGeneric) = timed("bootstrap_generic") {
    bootstrapPercentileCI(count: n, resamples: resamples, seed: 0) { idx in
        var hits = 0
        for i in idx where correct[i] { hits += 1 }
        return Double(hits) / Double(idx.count)
    }
}
show(
    "bootstrap_generic", tGeneric,
    "resamples=\(resamples) ci=\(ciGeneric.map { "[\($0.lo), \($0.hi)]" } ?? "nil") (index buffer + closure)")

print("swift total_core \(String(tKappa + tAlpha + tBoot)) s  (cohen_kappa + krippendorff_alpha + bootstrap_accuracy)")
print("swift peak_rss_mib \(String(peakRSSMiB()))")
