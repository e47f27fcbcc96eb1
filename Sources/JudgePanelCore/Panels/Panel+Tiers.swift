import Foundation
import Yams

extension Panel {
    /// Parses `tiers:`, `escalate:` and `adaptive:` of a panel file into `panel` (names checked against its judges).
    static func parseCascade(map: YAMLMap, into panel: inout Panel) throws {
        if let nodes = try map.sequence("tiers") {
            let names = Set(panel.judges.map(\.name))
            var seen = Set<String>()
            var tiers: [[String]] = []
            for node in nodes {
                guard let seq = node.sequence, !seq.isEmpty else {
                    throw JudgePanelError.badInput(
                        "each tier must be a non-empty list of judge names, e.g. tiers: [[small1, small2], [big]]",
                        file: map.file, line: node.mark?.line ?? map.lineOf("tiers"))
                }
                var tier: [String] = []
                for e in seq {
                    guard let name = e.scalar?.string else {
                        throw JudgePanelError.badInput(
                            "tier entries must be judge names", file: map.file, line: e.mark?.line)
                    }
                    guard names.contains(name) else {
                        throw JudgePanelError.badInput(
                            "tier names unknown judge '\(name)'", file: map.file, line: e.mark?.line)
                    }
                    guard seen.insert(name).inserted else {
                        throw JudgePanelError.badInput(
                            "judge '\(name)' is in more than one tier", file: map.file, line: e.mark?.line)
                    }
                    tier.append(name)
                }
                tiers.append(tier)
            }
            if let missing = panel.judges.first(where: { !seen.contains($0.name) }) {
                throw map.error("tiers", "judge '\(missing.name)' is in no tier (every judge belongs to exactly one)")
            }
            panel.tiers = tiers
        }
        if let a = try map.map("adaptive") {
            try a.rejectUnknown(["thresholds", "tolerance"], context: "adaptive")
            var rule = ScoreStopping()
            if let node = a.node("thresholds") {
                let values = node.sequence.map { Array($0) } ?? [node]
                rule.thresholds = try values.map { v in
                    guard let x = v.float ?? v.int.map(Double.init) else {
                        throw JudgePanelError.badInput(
                            "adaptive thresholds must be numbers", file: map.file, line: v.mark?.line)
                    }
                    return x
                }
            }
            if let t = try a.double("tolerance") {
                guard t >= 0 else { throw a.error("tolerance", "tolerance must be at least 0") }
                rule.tolerance = t
            }
            guard !rule.thresholds.isEmpty || rule.tolerance != nil else {
                throw map.error("adaptive", "adaptive needs thresholds: [..] and/or tolerance: X")
            }
            panel.scoreStopping = rule
        }
        if let e = try map.map("escalate") {
            try e.rejectUnknown(["min_share", "on_flip", "min_margin"], context: "escalate")
            var rule = EscalationRule()
            if let s = try e.double("min_share") {
                guard s > 0, s <= 1 else { throw e.error("min_share", "min_share must be in (0, 1]") }
                rule.minShare = s
            }
            if let f = try e.bool("on_flip") { rule.onFlip = f }
            if let m = try e.double("min_margin") {
                guard m >= 0, m <= 1 else { throw e.error("min_margin", "min_margin must be in [0, 1]") }
                rule.minMargin = m
            }
            panel.escalate = rule
        }
    }
}
