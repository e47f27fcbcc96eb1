import JudgePanelCore
import JudgePanelProviders
import JudgeStats

/// One judge call: judge × item × order × sample (× perturbation variant for probes).
package struct Call: Sendable, Hashable {
    package var item: Int
    package var judge: Int
    package var order: Order?
    package var sample: Int
    /// For checklist judging of a pairwise item: which response is graded.
    package var side: Preference?
    package var variant: String?

    package init(item: Int, judge: Int, order: Order?, sample: Int = 0, side: Preference? = nil, variant: String? = nil)
    {
        self.item = item
        self.judge = judge
        self.order = order
        self.sample = sample
        self.side = side
        self.variant = variant
    }

    /// The calls a panel makes for one item under a rubric, in a stable order.
    package static func plan(itemIndex: Int, item: Item, rubric: Rubric, panel: Panel, variant: String? = nil) -> [Call]
    {
        var calls: [Call] = []
        for (j, judge) in panel.judges.enumerated() {
            for s in 0..<judge.samples {
                switch rubric.kind {
                case .pairwise:
                    calls.append(Call(item: itemIndex, judge: j, order: .ab, sample: s, variant: variant))
                    if panel.swap {
                        calls.append(Call(item: itemIndex, judge: j, order: .ba, sample: s, variant: variant))
                    }
                case .pointwise:
                    calls.append(Call(item: itemIndex, judge: j, order: nil, sample: s, variant: variant))
                case .checklist:
                    if item.isPairwise && item.response == nil {
                        calls.append(Call(item: itemIndex, judge: j, order: nil, sample: s, side: .a, variant: variant))
                        calls.append(Call(item: itemIndex, judge: j, order: nil, sample: s, side: .b, variant: variant))
                    } else {
                        calls.append(Call(item: itemIndex, judge: j, order: nil, sample: s, variant: variant))
                    }
                }
            }
        }
        return calls
    }

    /// The journal key of the vote this call produces.
    package func key(itemID: String, judgeName: String) -> String {
        let o = order?.rawValue ?? side.map { "resp" + $0.rawValue } ?? "-"
        return "\(variant ?? "")|\(itemID)|\(judgeName)|\(o)|\(sample)"
    }
}
