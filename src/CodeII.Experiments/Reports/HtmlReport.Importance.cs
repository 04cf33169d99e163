using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
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
    static void RenderImportance(StringBuilder html, ReportModel model)
    {
        if (model.Importance is not { Models.Count: > 0 } importance) return;
        html.Append("<h2 id=\"importance\">Feature importance</h2>\n")
            .Append($"<p class=\"meta\">On {importance.ValidationExams} validation exams")
            .Append(importance.ValidationExams < importance.ValidationExamsInSplit ? $" (a seeded sample of the split's {importance.ValidationExamsInSplit})" : "")
            .Append($", never the test exams. <em>Δ AUROC</em> is the validation AUROC lost when the feature's values are shuffled among the exams, ")
            .Append($"the mean ± SD over {importance.Repeats} shuffles seeded from the run's seed ({importance.Seed}); near 0 the model does not rely on the feature. ")
            .Append($"Near-duplicate features (|Spearman ρ| ≥ {importance.CorrelationThreshold.ToString("0.##", CultureInfo.InvariantCulture)} on these exams, such as heart rate and RR) stand in for each other when shuffled one at a time, ")
            .Append($"so each group of them is also shuffled as one: <em>with its group</em> is that drop, with the group's size (hover for its members); features rank by it, and at most {TopMembersPerGroup} of a group are listed. ")
            .Append("For LightGBM: the feature's share of the total split gain, ")
            .Append("and its mean |TreeSHAP| contribution (log-odds); features no split tests are not shuffled (their Δ is exactly 0). ")
            .Append($"Shown per label and feature set: the model with the best validation AUROC (and the LightGBM model when another won), its top {TopFeatures} features. ")
            .Append($"Every model's value for every feature is in <code>{RunFolder.ImportanceFile}</code>.</p>\n");
        var shown = new Dictionary<string, (string Subset, string Anchor)>(StringComparer.Ordinal);
        foreach (var subset in model.Metrics.Subsets)
        {
            html.Append($"<h3 id=\"importance-{E(subset.Name)}\">{E(subset.Name)}</h3>\n");
            foreach (var label in subset.Labels)
            {
                var models = importance.Models.Where(m => m.Label == label && (m.Subset is null || m.Subset == subset.Name)).ToArray();
                if (models.Length == 0) continue;
                var anchor = $"importance-{subset.Name}-{label}";
                // A label with its own configuration has the same models in every subset: shown once, then pointed to.
                if (models.All(m => m.Subset is null) && shown.TryGetValue(label, out var first))
                {
                    html.Append($"<p class=\"meta\">{E(label)}: the same models as under <a href=\"#{E(first.Anchor)}\">{E(first.Subset)}</a>.</p>\n");
                    continue;
                }
                shown.TryAdd(label, (subset.Name, anchor));
                html.Append($"<h4 id=\"{E(anchor)}\">{E(label)}</h4>\n");
                foreach (var set in models.GroupBy(m => m.FeatureSet))
                {
                    var best = set.MaxBy(m => double.IsNaN(m.ValidationAuroc) ? double.MinValue : m.ValidationAuroc)!;
                    RenderImportanceTable(html, subset.Name, best);
                    // Gain and TreeSHAP exist for trees only: the set's LightGBM model is shown too when another won.
                    if (best.Learner != Sweep.BinaryLearnerCatalog.LightGbm && set.FirstOrDefault(m => m.Learner == Sweep.BinaryLearnerCatalog.LightGbm) is { } trees)
                        RenderImportanceTable(html, subset.Name, trees);
                }
            }
        }
    }

    static void RenderImportanceTable(StringBuilder html, string subset, ModelImportance m)
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
        html.Append($"<div class=\"scroll\"><table class=\"importance\" data-subset=\"{E(subset)}\" data-label=\"{E(m.Label)}\" data-model=\"{E(m.Model)}\">")
            .Append($"<caption class=\"meta\">{E(m.Model)}, validation AUROC {Format(m.ValidationAuroc)}")
            .Append(m.Unshuffled > 0 ? $"; {m.Unshuffled} features and groups with the weakest AUROC on their own were not shuffled (the run's budget)" : "")
            .Append("</caption>")
            .Append("<tr><th>rank</th><th class=\"text\">feature</th><th class=\"text\">unit</th><th>Δ AUROC alone</th><th>Δ AUROC with its group</th>")
            .Append(trees ? "<th>gain share</th><th>mean |SHAP|</th>" : "").Append("<th class=\"text\">meaning</th></tr>\n");
        for (var rank = 0; rank < top.Count; rank++)
        {
            var (f, _, group) = top[rank];
            var description = FeatureGlossary.Describe(f.Name);
            html.Append($"<tr data-feature=\"{E(f.Name)}\"><td class=\"number\">{rank + 1}</td><td class=\"text\"><code>{E(f.Name)}</code></td><td class=\"text\">{E(description.Unit)}</td>")
                .Append($"<td class=\"number\" data-value=\"{Raw(f.AurocDropMean)}\">{Drop(f.AurocDropMean)} ± {Drop(f.AurocDropSd)}</td>")
                .Append(group is null ? "<td class=\"number\">–</td>"
                    : $"<td class=\"number\" data-value=\"{Raw(group.AurocDropMean)}\" title=\"{E(string.Join(", ", group.Features))}\">{Drop(group.AurocDropMean)} ± {Drop(group.AurocDropSd)} ({group.Features.Count})</td>");
            if (trees)
                html.Append($"<td class=\"number\">{(totalGain > 0 ? ((f.Gain ?? 0) / totalGain).ToString("P1", CultureInfo.InvariantCulture) : "n/a")}</td>")
                    .Append($"<td class=\"number\">{Format(f.MeanAbsShap ?? double.NaN)}</td>");
            html.Append($"<td class=\"text\">{Markdown(description.Meaning)}</td></tr>\n");
        }
        html.Append("</table></div>\n");
    }

    /// <summary>Drops are often a few thousandths: one more decimal than the metrics.</summary>
    static string Drop(double value) => double.IsFinite(value) ? value.ToString("F" + (Decimals + 1), CultureInfo.InvariantCulture) : "n/a";

    static string Raw(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The glossary's meanings as docs/features.md writes them: names in backticks, escaped table pipes.</summary>
    static string Markdown(string text) => Regex.Replace(E(text.Replace(@"\|", "|")), "`([^`]*)`", "<code>$1</code>");
}
