using System.Globalization;
using System.Text;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Reports;

public static partial class HtmlReport
{
    /// <summary>Features shown per label and model: the most important, by permutation.</summary>
    public const int TopFeatures = 10;

    /// <summary>Members of one correlated group listed among the top features at most, so a large group of
    /// near-duplicates (learned features especially) does not fill the table with one finding.</summary>
    public const int TopMembersPerGroup = 3;

    /// <summary>
    /// Per label subset and label, the most important features of each feature set's best model (by validation AUROC,
    /// the exams the importances are computed on), from <c>importance.json</c>: name, unit and meaning, the permutation
    /// drop in validation AUROC with its spread over the repeats, and for LightGBM its gain share and mean |TreeSHAP|.
    /// </summary>
    static partial void RenderImportance(ReportPage page, ReportModel model)
    {
        if (model.Importance is not { Models.Count: > 0 } importance) return;
        var html = new StringBuilder();
        page.Heading("importance", "Feature importance");
        html.Append($"<p class=\"meta\">On {importance.ValidationExams} validation exams")
            .Append(importance.ValidationExams < importance.ValidationExamsInSplit ? $" (a seeded sample of the split's {importance.ValidationExamsInSplit})" : "")
            .Append($", never the test exams. <em>Δ AUROC</em> is the validation AUROC lost when the feature's values are shuffled among the exams, ")
            .Append($"the mean ± SD over {importance.Repeats} shuffles seeded from the run's seed ({importance.Seed}); near 0 the model does not rely on the feature. ")
            .Append($"Near-duplicate features (|Spearman ρ| ≥ {importance.CorrelationThreshold.ToString("0.##", CultureInfo.InvariantCulture)} on these exams, such as heart rate and RR) stand in for each other when shuffled one at a time, ")
            .Append($"so each group of them is also shuffled as one: <em>with its group</em> is that drop, with the group's size (hover for its members); features rank by it, and at most {TopMembersPerGroup} of a group are listed. ")
            .Append("For LightGBM: the feature's share of the total split gain, ")
            .Append("and its mean |TreeSHAP| contribution (log-odds); features no split tests are not shuffled (their Δ is exactly 0). ")
            .Append($"Shown per label and feature set: the model with the best validation AUROC (and the LightGBM model when another won), its top {TopFeatures} features. ")
            .Append($"Every model's value for every feature is in <code>{RunFolder.ImportanceFile}</code>.</p>\n");
        page.Append(html.ToString());
        var shown = new Dictionary<string, (string Subset, string Anchor)>(StringComparer.Ordinal);
        foreach (var subset in model.Metrics.Subsets)
        {
            page.Heading($"importance-{subset.Name}", subset.Name, 1);
            foreach (var label in subset.Labels)
            {
                var models = importance.Models.Where(m => m.Label == label && (m.Subset is null || m.Subset == subset.Name)).ToArray();
                if (models.Length == 0) continue;
                var anchor = $"importance-{subset.Name}-{label}";
                // A label with its own configuration has the same models in every subset: shown once, then pointed to.
                if (models.All(m => m.Subset is null) && shown.TryGetValue(label, out var first))
                {
                    page.Append($"<p class=\"meta\">{E(label)}: the same models as under <a href=\"#{E(first.Anchor)}\">{E(first.Subset)}</a>.</p>\n");
                    continue;
                }
                shown.TryAdd(label, (subset.Name, anchor));
                page.Append($"<h4 id=\"{E(anchor)}\">{E(label)}</h4>\n");
                foreach (var set in models.GroupBy(m => m.FeatureSet))
                {
                    var best = set.MaxBy(m => double.IsNaN(m.ValidationAuroc) ? double.MinValue : m.ValidationAuroc)!;
                    RenderImportanceTable(page, subset.Name, best);
                    // Gain and TreeSHAP exist for trees only: the set's LightGBM model is shown too when another won.
                    if (best.Learner != Sweep.BinaryLearnerCatalog.LightGbm && set.FirstOrDefault(m => m.Learner == Sweep.BinaryLearnerCatalog.LightGbm) is { } trees)
                        RenderImportanceTable(page, subset.Name, trees);
                }
            }
        }
    }

    static void RenderImportanceTable(ReportPage page, string subset, ModelImportance m)
    {
        var trees = m.Features.Any(f => f.Gain is not null);
        var totalGain = m.Features.Sum(f => f.Gain ?? 0);
        var groupOf = m.Groups.SelectMany(g => g.Features.Select(name => (name, g))).ToDictionary(x => x.name, x => x.g, StringComparer.Ordinal);
        static double Key(double drop) => double.IsNaN(drop) ? double.MinValue : drop;
        // A feature ranks by what it carries with its near-duplicates (alone, each would hide behind the others), then
        // by its own drop and contribution.
        var ranked = m.Features.Select((f, index) => (Feature: f, Index: index, Group: groupOf.GetValueOrDefault(f.Name)))
            .OrderByDescending(x => Key(x.Group?.AurocDropMean ?? x.Feature.AurocDropMean)).ThenByDescending(x => Key(x.Feature.AurocDropMean))
            .ThenByDescending(x => x.Feature.MeanAbsShap ?? 0).ThenBy(x => x.Index);
        var top = new List<(FeatureScore Feature, int Index, GroupScore? Group)>();
        var listed = new Dictionary<GroupScore, int>(ReferenceEqualityComparer.Instance);
        foreach (var x in ranked)
        {
            if (top.Count == TopFeatures) break;
            if (x.Group is not null && (listed[x.Group] = listed.GetValueOrDefault(x.Group) + 1) > TopMembersPerGroup) continue;
            top.Add(x);
        }
        var caption = $"{m.Model}, validation AUROC {Format(m.ValidationAuroc)}"
            + (m.Unshuffled > 0 ? $"; {m.Unshuffled} features and groups with the weakest AUROC on their own were not shuffled (the run's budget)" : "");
        page.Append($"<p class=\"meta\">{E(caption)}</p>\n");
        page.Table(new ReportTable($"importance-{subset}-{m.Label}-{m.Model}", $"Feature importance on the validation exams, {m.Label}, {caption}",
            ["rank", "feature", "unit", "Δ AUROC alone", "Δ AUROC with its group", .. trees ? new[] { "gain share", "mean |SHAP|" } : [], "meaning"],
            [.. top.Select((x, rank) =>
            {
                var (f, _, group) = x;
                var description = FeatureGlossary.Describe(f.Name);
                return new TableRow(
                [
                    TableCell.Count(rank + 1), f.Name, description.Unit,
                    new TableCell($"{Drop(f.AurocDropMean)} ± {Drop(f.AurocDropSd)}", "number", new Dictionary<string, string> { ["value"] = Raw(f.AurocDropMean) }),
                    group is null ? TableCell.Number("–")
                        : new TableCell($"{Drop(group.AurocDropMean)} ± {Drop(group.AurocDropSd)} ({group.Features.Count})", "number", new Dictionary<string, string> { ["value"] = Raw(group.AurocDropMean) }, string.Join(", ", group.Features)),
                    .. trees ? new[] { TableCell.Number(totalGain > 0 ? ((f.Gain ?? 0) / totalGain).ToString("P1", CultureInfo.InvariantCulture) : "n/a"), TableCell.Number(f.MeanAbsShap ?? double.NaN) } : [],
                    PlainText(description.Meaning),
                ]);
            })]) { HtmlClass = "importance" });
    }

    /// <summary>Drops are often a few thousandths: one more decimal than the metrics.</summary>
    static string Drop(double value) => double.IsFinite(value) ? value.ToString("F" + (Decimals + 1), CultureInfo.InvariantCulture) : "n/a";

    static string Raw(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The glossary's meanings as docs/features.md writes them, without its backticks and escaped table pipes.</summary>
    static string PlainText(string text) => text.Replace(@"\|", "|").Replace("`", "");
}
