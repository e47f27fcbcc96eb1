import Foundation
import JudgeStats

/// The Label Studio round trip: tasks to import into a Label Studio project (`label RUN --export label-studio FILE`)
/// and its JSON export read back as labels (`import label-studio EXPORT.json`).
///
/// Pairwise items become tasks with `prompt`, `answer1`, `answer2` (the two candidates in a per-item random order,
/// recorded in the task as `shown_order`, so the annotator cannot tell the dataset's orientation) and the
/// labelling config of ``pairwiseConfig``: one `Choices` control named `preference` with `1`, `2` and `tie`. The
/// stock `Pairwise` tag's result (`{"selected": "left" | "right"}`) is read too. Pointwise items become tasks with
/// `prompt` and `response`, labelled with a `Rating` control (``pointwiseConfig(maxRating:)``).
///
/// Formats: Label Studio's task import (a JSON list of `{"data": {…}}`,
/// https://labelstud.io/guide/tasks.html#Basic-Label-Studio-JSON-format) and its JSON export (a list of tasks, each
/// with `annotations: [{completed_by, result: [{from_name, to_name, type, value}], lead_time, created_at,
/// was_cancelled}]`, https://labelstud.io/guide/export.html#Label-Studio-JSON-format-of-annotated-tasks).
public enum LabelStudio {
    /// The labelling config for pairwise tasks.
    public static let pairwiseConfig = """
        <View>
          <Header value="Which response answers the prompt better?"/>
          <Text name="prompt" value="$prompt"/>
          <View style="display: grid; grid-template-columns: 1fr 1fr; column-gap: 1em">
            <View><Header value="Response 1" size="5"/><Text name="answer1" value="$answer1"/></View>
            <View><Header value="Response 2" size="5"/><Text name="answer2" value="$answer2"/></View>
          </View>
          <Choices name="preference" toName="prompt" choice="single-radio" showInline="true" required="true">
            <Choice value="1" hotkey="1"/>
            <Choice value="2" hotkey="2"/>
            <Choice value="tie" hotkey="t"/>
          </Choices>
        </View>

        """

    /// The labelling config for pointwise tasks (a 1…`maxRating` rating).
    public static func pointwiseConfig(maxRating: Int) -> String {
        """
        <View>
          <Header value="Rate the response"/>
          <Text name="prompt" value="$prompt"/>
          <Text name="response" value="$response"/>
          <Rating name="rating" toName="response" maxRating="\(maxRating)" required="true"/>
        </View>

        """
    }

    /// The tasks for `items` (a JSON list), candidates of pairwise items in the order `shownOrder(item)` gives.
    public static func tasks(items: [Item], shownOrder: (Item) -> Order, selectedBy: [String: (String, Double)] = [:])
        -> JSONValue
    {
        .array(
            items.map { item in
                var data: [String: JSONValue] = ["item": .string(item.id), "prompt": .string(item.promptText)]
                if let a = item.responseA, let b = item.responseB {
                    let o = shownOrder(item)
                    data["answer1"] = .string(o == .ab ? a : b)
                    data["answer2"] = .string(o == .ab ? b : a)
                    data["shown_order"] = .string(o.rawValue)
                } else {
                    data["response"] = .string(item.response ?? "")
                }
                if let (rule, p) = selectedBy[item.id] {
                    data["selected_by"] = .string(rule)
                    data["p_select"] = .number(p)
                }
                return .object(["data": .object(data)])
            })
    }

    /// Reads a Label Studio JSON export into label records (one per submitted annotation; cancelled (skipped)
    /// annotations and tasks without our `item` are reported as errors naming the task).
    ///
    /// - Parameters:
    ///   - data: the export's bytes.
    ///   - file: its path, for error messages.
    ///   - annotator: overrides the annotator's name (default: the export's `completed_by` email, or
    ///     `label-studio-user-ID`).
    public static func labels(export data: Data, file: String, annotator: String? = nil) throws -> [LabelRecord] {
        let root: JSONValue
        do { root = try JSONValue(jsonData: data) } catch {
            throw JudgePanelError.badInput("not JSON: \(error)", file: file)
        }
        guard let tasks = root.arrayValue else {
            throw JudgePanelError.badInput("a Label Studio JSON export is a list of tasks", file: file)
        }
        var out: [LabelRecord] = []
        for (n, task) in tasks.enumerated() {
            let whereTask = "task \(n + 1)" + (task["id"].map { " (id \($0.textValue))" } ?? "")
            guard let d = task["data"],
                let item = d["item"].flatMap({ $0.stringValue ?? ($0.doubleValue != nil ? $0.textValue : nil) })
            else {
                throw JudgePanelError.badInput(
                    "\(whereTask): no data.item (export tasks written by `judgepanel label --export label-studio`)",
                    file: file)
            }
            let shown = d["shown_order"]?.stringValue.flatMap(Order.init(rawValue:))
            let rule = d["selected_by"]?.stringValue ?? "import"
            let p = d["p_select"]?.doubleValue ?? 1
            guard p > 0, p <= 1 else {
                throw JudgePanelError.badInput("\(whereTask): p_select must be in (0, 1]", file: file)
            }
            for ann in task["annotations"]?.arrayValue ?? [] {
                if ann["was_cancelled"]?.boolValue == true { continue }
                let results = ann["result"]?.arrayValue ?? []
                var label: Label?
                for r in results {
                    let value = r["value"]
                    if let c = value?["choices"]?.arrayValue?.first?.stringValue {
                        label = try pairwise(choice: c, shown: shown, whereTask: whereTask, file: file)
                    } else if let s = value?["selected"]?.stringValue {
                        let first: Preference
                        switch s {
                        case "left": first = .a
                        case "right": first = .b
                        default:
                            throw JudgePanelError.badInput(
                                "\(whereTask): pairwise selection \(s.debugDescription)", file: file)
                        }
                        label = .pairwise(map(first, shown: shown))
                    } else if let r = value?["rating"]?.doubleValue {
                        label = .score(r)
                    }
                }
                guard let label else { continue }  // an annotation without our controls (e.g. only a comment)
                let who: String
                if let annotator {
                    who = annotator
                } else if let email = ann["completed_by"]?["email"]?.stringValue, !email.isEmpty {
                    who = email
                } else if let id = ann["completed_by"]?["id"] ?? ann["completed_by"] {
                    who = "label-studio-user-\(id.textValue)"
                } else {
                    who = "label-studio"
                }
                out.append(
                    LabelRecord(
                        item: item, annotator: who, label: label, shownOrder: shown, selectedBy: rule, pSelect: p,
                        seconds: ann["lead_time"]?.doubleValue, time: ann["created_at"]?.stringValue))
            }
        }
        return out
    }

    /// A shown-order preference (`A` = the first shown) in the dataset's orientation.
    package static func map(_ shownPreference: Preference, shown: Order?) -> Preference {
        guard shown == .ba else { return shownPreference }
        switch shownPreference {
        case .a: return .b
        case .b: return .a
        case .tie: return .tie
        }
    }

    private static func pairwise(choice: String, shown: Order?, whereTask: String, file: String) throws -> Label {
        switch choice.lowercased() {
        case "1": return .pairwise(map(.a, shown: shown))
        case "2": return .pairwise(map(.b, shown: shown))
        case "tie": return .pairwise(.tie)
        default:
            throw JudgePanelError.badInput(
                "\(whereTask): choice \(choice.debugDescription) (expected 1, 2 or tie)", file: file)
        }
    }
}
