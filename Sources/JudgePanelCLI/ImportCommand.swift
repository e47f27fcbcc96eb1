import ArgumentParser
import Foundation
import JudgePanel

extension ImportFormat: ExpressibleByArgument {}

/// `judgepanel import FORMAT SRC...`: turns a known annotated data set into items.jsonl (+ votes.jsonl).
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a known data set into items.jsonl (and recorded judge verdicts into votes.jsonl).",
        discussion: """
            Sources per format:
              pandalm: testset-v1.json [*-testset-v1.json result files]
              llmbar: DIR or DIR/dataset.json (+ DIR/evaluators/E/S/result.json)
              autoj: TEST.jsonl [--predictions F] [--exchanged F] [--judge NAME]
              mtbench-human: human_judgments.json, gpt4_pair_judgments.json (lmsys/mt_bench_human_judgments,
                JSON or JSONL; author_*/expert_*/human* = labels), FastChat model_judgment/gpt-4_pair.jsonl
              alpacaeval: annotations.json [--as-labels]
              hanna: hanna_metric_scores_llm.csv [--criterion Coherence]
              judgebench: data/*.jsonl and/or outputs/*judge_name=*.jsonl (votes in both orders)
              label-studio: EXPORT.json (Label Studio's JSON export of tasks from `label --export label-studio`)
                -> labels appended to --labels-out (default labels.jsonl), in the dataset's orientation
            items.jsonl (and votes.jsonl) are written atomically into --out.
            """
    )

    @Argument(help: "The data set format.")
    var format: ImportFormat

    @Argument(help: "Source files (or an LLMBar folder).")
    var sources: [String]

    @Option(name: .customLong("out"), help: "Directory for items.jsonl and votes.jsonl.")
    var out: String = "."

    @Option(
        help: "HANNA: criterion for labels and votes (Relevance, Coherence, Empathy, Surprise, Engagement, Complexity)."
    )
    var criterion: String?

    @Option(help: "Auto-J: predictions for the original order (JSONL of {\"output\": 0/1/2}).")
    var predictions: String?

    @Option(help: "Auto-J: predictions with the two responses exchanged.")
    var exchanged: String?

    @Option(help: "Auto-J: judge name for the predictions (default autoj).")
    var judge: String?

    @Flag(name: .customLong("as-labels"), help: "alpaca_eval: treat every preference as a human label.")
    var asLabels = false

    @Option(name: .customLong("labels-out"), help: "label-studio: the labels file to append to (default labels.jsonl).")
    var labelsOut: String = "labels.jsonl"

    @Option(help: "label-studio: the annotator's name for every label (default: the export's completed_by).")
    var annotator: String?

    func run() async throws {
        try await runMapped {
            if format == .labelStudio {
                try importLabelStudio()
                return
            }
            let options = ImportOptions(
                criterion: criterion, predictions: predictions, exchanged: exchanged, judge: judge, asLabels: asLabels)
            let result = try Importer.run(format: format, sources: sources, options: options)
            let written = try result.write(to: out, format: format.rawValue)
            for note in result.notes { printErr("note: \(note)") }
            for w in result.warnings { printErr("warning: \(w.text)") }
            say(
                "\(format.rawValue): \(result.items.count) items, \(result.labelledItemCount) with a label, \(result.annotatorLabelCount) annotator labels"
            )
            for j in result.votesPerJudge {
                say("  votes \(j.judge): \(j.ok + j.abstained) (\(j.ok) ok, \(j.abstained) abstained)")
            }
            let counts = result.warningCounts
            say(
                "  warnings: \(result.warnings.count) (\(ImportWarning.Kind.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")))"
            )
            for path in written { say("wrote \(path)") }
        }
    }
}

extension ImportCommand {
    /// `import label-studio EXPORT.json...`: every source is read before anything is written, so a bad export appends
    /// nothing; each label is then appended (and synced) to --labels-out.
    func importLabelStudio() throws {
        var records: [LabelRecord] = []
        for path in sources {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw JudgePanelError.badInput("cannot read file", file: path)
            }
            records += try LabelStudio.labels(export: data, file: path, annotator: annotator)
        }
        for r in records { try LabelsFile.append(r, to: labelsOut) }
        let annotators = Set(records.map(\.annotator)).sorted()
        say(
            "label-studio: \(records.count) labels on \(Set(records.map(\.item)).count) items from \(annotators.count) annotator(s)"
        )
        say("appended to \(labelsOut)")
    }
}
