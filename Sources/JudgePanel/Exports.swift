// `import JudgePanel` gives an embedder the whole library: the workflows here and the layers below.
@_exported import JudgePanelAggregation
@_exported import JudgePanelAnalysis
@_exported import JudgePanelCore
@_exported import JudgePanelJudging
@_exported import JudgePanelProviders
@_exported import JudgePanelReports
