using System.Text.Json;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Models;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>The importance stage of the small run: its artefact, and the report's section from it. A part of
/// <see cref="ExperimentRunnerTests"/>, so the two share one run of the experiment.</summary>
public partial class ExperimentRunnerTests
{
    FeatureImportance ReadImportance() => JsonSerializer.Deserialize<FeatureImportance>(
        File.ReadAllText(small.Result.Folder.FileIn(RunFolder.ImportanceFile)), JsonConventions.Options)!;

    [Fact]
    public void Importance_is_a_stage_of_the_plan_unless_the_definition_turns_it_off()
    {
        static string[] Stages(string yaml) => [.. RunPlan.For(ExperimentDefinitionLoader.Parse(yaml, "x.yaml")).Select(s => s.Name)];
        Assert.Contains("importance", Stages("name: x\n"));
        Assert.DoesNotContain("importance", Stages("name: x\nevaluation: { importance: false }\n"));
        Assert.Contains("evaluation.importance", Assert.Throws<ExperimentDefinitionException>(() => Stages("name: x\nevaluation: { importance: maybe }\n")).Message);
    }

    [Fact]
    public void A_run_keeps_the_importance_of_every_model_that_reads_features_computed_on_its_validation_exams()
    {
        var folder = small.Result.Folder;
        var importance = ReadImportance();
        var bundles = ModelsStage.Bundles(folder).Select(b => ModelBundle.ReadDescription(folder.FileIn(b))).Where(d => d.FeatureSet is not null).ToArray();
        Assert.Equal(bundles.Select(d => (d.Model, d.Label, d.Subset)), importance.Models.Select(m => (m.Model, m.Label, m.Subset)));
        Assert.Equal(PermutationImportance.DefaultRepeats, importance.Repeats);
        Assert.Equal(small.Definition.Seed, importance.Seed);

        var split = CodeII.Experiments.Data.CsvTable.Read(folder.FileIn(RunFolder.SplitFile));
        var column = split.Header.ToList().IndexOf("split");
        Assert.Equal(split.Rows.Count(r => r[column] == "validation"), importance.ValidationExamsInSplit);
        Assert.Equal(importance.ValidationExamsInSplit, importance.ValidationExams);

        foreach (var (model, bundle) in importance.Models.Zip(bundles))
        {
            // The unshuffled AUROC is the one the sweep measured on the validation exams: the same exams, not the test's.
            Assert.Equal(bundle.ValidationAuroc, model.ValidationAuroc, 12);
            Assert.Equal(bundle.FeatureNames, model.Features.Select(f => f.Name));
            Assert.All(model.Features, f => Assert.True(double.IsFinite(f.AurocDropMean) && double.IsFinite(f.AurocDropSd), $"{model.Model} {model.Label} {f.Name}"));
            var lightGbm = bundle.ModelFile == ModelBundle.LightGbmModelFile;
            Assert.All(model.Features, f => Assert.Equal(lightGbm, f.Gain is not null && f.MeanAbsShap is not null && f.Splits is not null));
            if (lightGbm)
                Assert.All(model.Features.Where(f => f.Splits == 0), f => Assert.Equal((0.0, 0.0, 0.0, 0.0), (f.AurocDropMean, f.AurocDropSd, f.Gain!.Value, f.MeanAbsShap!.Value)));
        }
        // The rhythm labels are told apart by the rhythm features: SB's LightGBM model leans on heart rate or RR.
        var sb = importance.Models.Where(m => m.Label == "SB" && m.Learner == "lightgbm").Single();
        var top = sb.Features.OrderByDescending(f => f.AurocDropMean).Take(3).Select(f => f.Name).ToArray();
        Assert.True(top.Any(n => n is "hr_bpm" || n.StartsWith("rr_", StringComparison.Ordinal)), $"SB's top features: {string.Join(", ", top)}");
    }

    [Fact]
    public void The_report_shows_each_labels_top_features_and_renders_again_from_the_folder_alone()
    {
        var html = File.ReadAllText(small.Result.ReportPath);
        Assert.Contains("<h2 id=\"importance\">Feature importance</h2>", html);
        foreach (var label in small.Definition.AllLabels)
            Assert.Contains($"<table id=\"table-importance-code6-{label}-lightgbm\" class=\"importance sortable\" data-table=\"importance-code6-{label}-lightgbm\">", html);
        // rhythm's labels have their own configuration: shown once under code6, then pointed to.
        Assert.Contains("SB: the same models as under <a href=\"#importance-code6-SB\">code6</a>", html);
        Assert.Contains("<td class=\"text\">hr_bpm</td><td class=\"text\">beats/min</td>", html);
        // Its tables are the run's paper tables too.
        Assert.Contains(Directory.GetFiles(small.Result.Folder.FileIn("tables"), "importance-*.csv"), f => File.ReadAllText(f).Contains("hr_bpm,beats/min"));
        // The browser test reads every td.metric cell as a metrics.json value; importances are not.
        Assert.DoesNotContain("class=\"metric\"", ImportanceSection(html));

        var again = CodeII.Experiments.Reports.HtmlReport.Render(RunReport.Read(small.Result.Folder)).Html;
        Assert.Equal(ImportanceSection(html), ImportanceSection(again));
    }

    [Fact]
    public void A_model_over_the_budget_shuffles_only_the_features_strongest_on_their_own_and_leaves_the_rest_without_a_value()
    {
        var folder = small.Result.Folder;
        var relative = ModelsStage.Bundles(folder).First(b => b.Contains("logistic_regression") && b.EndsWith("/SB", StringComparison.Ordinal));
        var description = ModelBundle.ReadDescription(folder.FileIn(relative));
        var table = CodeII.Experiments.Data.CsvTable.Read(folder.FileIn(RunFolder.SplitFile));
        // The split's validation exams' features, as the run read them, come back through the bundle's own extractor.
        var source = Datasets.CreateSource(small.Definition);
        var validation = table.Rows.Where(r => r[table.Column("split")] == "validation").Select(r => r[table.Column("exam_id")]).ToHashSet();
        var indices = Enumerable.Range(0, source.Count).Where(i => validation.Contains(source.ExamIdAt(i))).ToArray();
        using var bundle = ModelBundle.Load(folder.FileIn(relative));
        var extractor = bundle.Extractor();
        var rows = indices.Select(i =>
        {
            var values = new float[extractor.FeatureNames.Count];
            extractor.Extract(source.Read(i), values);
            return values;
        }).ToArray();
        var truth = indices.Select(i => source.Read(i).Labels.Contains("SB")).ToArray();

        var full = ImportanceStage.OfModel(folder.FileIn(relative), rows, [], truth, small.Definition.Seed);
        Assert.Equal(description.ValidationAuroc, full.ValidationAuroc, 12);
        Assert.Equal(0, full.Unshuffled);
        var capped = ImportanceStage.OfModel(folder.FileIn(relative), rows, [], truth, small.Definition.Seed,
            maxWork: 3.0 * PermutationImportance.DefaultRepeats * rows.Length * rows[0].Length);
        Assert.Equal(description.FeatureNames.Count - 3, capped.Unshuffled);
        var kept = capped.Features.Select((f, j) => (f, j)).Where(x => !double.IsNaN(x.f.AurocDropMean)).ToArray();
        Assert.Equal(3, kept.Length);
        // Those shuffled have the values they have without a budget: the same shuffles.
        Assert.All(kept, x => Assert.Equal(full.Features[x.j], x.f));
        var strongest = Enumerable.Range(0, rows[0].Length)
            .OrderByDescending(j => Math.Abs(BinaryMetrics.Auroc([.. rows.Select(r => float.IsNaN(r[j]) ? float.NegativeInfinity : r[j])], truth) - 0.5))
            .Take(3).Order();
        Assert.Equal(strongest, kept.Select(x => x.j));
    }

    static string ImportanceSection(string html)
    {
        var start = html.IndexOf("<h2 id=\"importance\">", StringComparison.Ordinal);
        return html[start..html.IndexOf("<h2 ", start + 1, StringComparison.Ordinal)];
    }
}
