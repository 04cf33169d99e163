namespace CodeII.Experiments.Evaluation;

/// <summary>One run as a comparison reads it: its test exams and every model's test scores, what identifies its test
/// patients, and the facts (versions, definition keys) that may differ between runs.</summary>
public sealed record ComparedRun
{
    /// <summary>How the run is named in the comparison, e.g. <c>quickstart@20261202T055636Z</c>.</summary>
    public required string Name { get; init; }
    public required string Folder { get; init; }
    public required IReadOnlyList<string> TestExams { get; init; }
    public required IReadOnlyList<string> TestPatients { get; init; }
    public required IReadOnlySet<string>[] TestLabels { get; init; }
    /// <summary>Test scores by (model, label), in <see cref="TestExams"/>' order.</summary>
    public required IReadOnlyDictionary<(string Model, string Label), float[]> Scores { get; init; }
    /// <summary>SHA-256 of the data fingerprint and the test exams with their patients: equal only when two runs tested on the same exams.</summary>
    public required string SplitFingerprint { get; init; }
    /// <summary>Seed, commit, runtime, package and feature versions, data fingerprint.</summary>
    public required IReadOnlyDictionary<string, string> Versions { get; init; }
    /// <summary>The resolved definition flattened to <c>a.b.c</c> keys.</summary>
    public required IReadOnlyDictionary<string, string> Definition { get; init; }
}

/// <summary>One model of one run over the labels the runs share.</summary>
public sealed record ComparedModel(string Run, string Model, Estimate MacroAuroc, IReadOnlyDictionary<string, Estimate> Auroc);

/// <summary>A model of a later run minus the same-named model (or the best model) of the first run, in macro-AUROC over
/// the shared labels.</summary>
public sealed record CrossRunDifference(string Run, string Model, string VersusRun, string VersusModel, bool Paired, Estimate Difference)
{
    public bool Significant => Difference.Lower > 0 || Difference.Upper < 0;
}

/// <summary>A key whose value differs between runs, with each run's value (null where a run lacks the key).</summary>
public sealed record DifferingFact(string Key, IReadOnlyList<string?> Values);

/// <summary><c>comparison.json</c>: what <c>codeii compare</c> found, and what its report shows.</summary>
public sealed record RunComparison
{
    public required IReadOnlyList<string> Runs { get; init; }
    public required IReadOnlyList<string> Folders { get; init; }
    public required IReadOnlyList<string> SplitFingerprints { get; init; }
    /// <summary>True when every run tested on the same exams and patients: differences are then paired.</summary>
    public required bool Paired { get; init; }
    public string? Warning { get; init; }
    public required IReadOnlyList<string> SharedLabels { get; init; }
    public required int BootstrapReplicates { get; init; }
    public required double Confidence { get; init; }
    public required IReadOnlyList<ComparedModel> Models { get; init; }
    public required IReadOnlyList<CrossRunDifference> Differences { get; init; }
    public required IReadOnlyList<DifferingFact> VersionDifferences { get; init; }
    public required IReadOnlyList<DifferingFact> DefinitionDifferences { get; init; }
}

/// <summary>
/// Compares the models of several runs on the labels they share. Runs tested on the same exams (equal split
/// fingerprints) are compared by a paired patient bootstrap, as models within a run are; otherwise each run is
/// resampled on its own and the comparison carries a warning, because its intervals also hold the difference between
/// the test sets.
/// </summary>
public static class RunComparer
{
    public static RunComparison Compare(IReadOnlyList<ComparedRun> runs, int replicates = 1000, double confidence = 0.95, int seed = 42)
    {
        if (runs.Count < 2) throw new ArgumentException("a comparison needs at least two runs");
        var shared = runs.Select(r => r.Scores.Keys.Select(k => k.Label).ToHashSet(StringComparer.Ordinal))
            .Aggregate((a, b) => { a.IntersectWith(b); return a; });
        var labels = runs[0].Scores.Keys.Select(k => k.Label).Distinct().Where(shared.Contains).ToArray();
        if (labels.Length == 0) throw new ArgumentException($"the runs share no label: {string.Join("; ", runs.Select(r => $"{r.Name}: {string.Join(", ", r.Scores.Keys.Select(k => k.Label).Distinct())}"))}");
        var paired = runs.All(r => r.SplitFingerprint == runs[0].SplitFingerprint);

        // Paired: every run is read in the first run's exam order and resampled with the same patients.
        var order = runs.Select(r =>
        {
            if (!paired) return Enumerable.Range(0, r.TestExams.Count).ToArray();
            var position = r.TestExams.Select((e, i) => (e, i)).ToDictionary(x => x.e, x => x.i, StringComparer.Ordinal);
            return runs[0].TestExams.Select(e => position.TryGetValue(e, out var i) ? i
                : throw new ArgumentException($"{r.Folder}: its split fingerprint is the first run's, but its predictions lack test exam {e}")).ToArray();
        }).ToArray();
        // Unpaired, each run is resampled on its own: other seeds, or runs of the same patients would share resamples.
        var bootstraps = runs.Select((r, k) => paired && k > 0 ? null : new PatientBootstrap(r.TestPatients, replicates, paired ? seed : seed + k, confidence)).ToArray();
        PatientBootstrap BootstrapOf(int run) => bootstraps[paired ? 0 : run]!;
        int Count(int run) => runs[run].TestExams.Count;

        double Auroc(int run, string model, string label, int[] idx)
        {
            var scores = runs[run].Scores[(model, label)];
            var truth = runs[run].TestLabels;
            var o = order[run];
            return BinaryMetrics.Auroc([.. idx.Select(i => scores[o[i]])], [.. idx.Select(i => truth[o[i]].Contains(label))]);
        }
        double Macro(int run, string model, int[] idx)
        {
            var values = labels.Select(l => Auroc(run, model, l, idx)).ToArray();
            return values.Any(double.IsNaN) ? double.NaN : values.Average();
        }
        string[] ModelsOf(int run) => [.. runs[run].Scores.Keys.Where(k => k.Label == labels[0]).Select(k => k.Model)
            .Where(m => labels.All(l => runs[run].Scores.ContainsKey((m, l))))];
        for (var k = 0; k < runs.Count; k++)
            if (ModelsOf(k).Length == 0) throw new ArgumentException($"{runs[k].Folder}: no model of the run scores every shared label ({string.Join(", ", labels)})");

        var models = new List<ComparedModel>();
        for (var k = 0; k < runs.Count; k++)
            foreach (var model in ModelsOf(k))
                models.Add(new ComparedModel(runs[k].Name, model, BootstrapOf(k).Estimate(Count(k), idx => Macro(k, model, idx)),
                    labels.ToDictionary(l => l, l => BootstrapOf(k).Estimate(Count(k), idx => Auroc(k, model, l, idx)))));

        // Each later run against the first: model by model where the names match, and best against best.
        var differences = new List<CrossRunDifference>();
        string Best(int run) => models.Where(m => m.Run == runs[run].Name && m.Model != ExperimentEvaluator.PriorModel && double.IsFinite(m.MacroAuroc.Value))
            .OrderByDescending(m => m.MacroAuroc.Value).ThenBy(m => m.Model, StringComparer.Ordinal).Select(m => m.Model).FirstOrDefault() ?? ModelsOf(run).First();
        Estimate Difference(int run, string model, string versusModel) => paired
            ? BootstrapOf(0).Estimate(Count(0), idx => Macro(run, model, idx) - Macro(0, versusModel, idx))
            : BootstrapOf(run).UnpairedDifference(Count(run), idx => Macro(run, model, idx), BootstrapOf(0), Count(0), idx => Macro(0, versusModel, idx));
        for (var k = 1; k < runs.Count; k++)
        {
            var run = k;
            foreach (var model in ModelsOf(run).Intersect(ModelsOf(0)).Where(m => m != ExperimentEvaluator.PriorModel))
                differences.Add(new CrossRunDifference(runs[run].Name, model, runs[0].Name, model, paired, Difference(run, model, model)));
            var (best, firstBest) = (Best(run), Best(0));
            if (!differences.Any(d => d.Run == runs[run].Name && d.Model == best && d.VersusModel == firstBest))
                differences.Add(new CrossRunDifference(runs[run].Name, best, runs[0].Name, firstBest, paired, Difference(run, best, firstBest)));
        }

        return new RunComparison
        {
            Runs = [.. runs.Select(r => r.Name)],
            Folders = [.. runs.Select(r => r.Folder)],
            SplitFingerprints = [.. runs.Select(r => r.SplitFingerprint)],
            Paired = paired,
            Warning = paired ? null
                : "The runs were tested on different exams or patients (their split fingerprints differ), so their differences are unpaired: each run is resampled on its own, and each interval holds the difference between the test sets as well as between the models.",
            SharedLabels = labels,
            BootstrapReplicates = replicates,
            Confidence = confidence,
            Models = models,
            Differences = differences,
            VersionDifferences = Differing(runs.Select(r => r.Versions).ToArray()),
            DefinitionDifferences = Differing(runs.Select(r => r.Definition).ToArray()),
        };
    }

    static DifferingFact[] Differing(IReadOnlyDictionary<string, string>[] facts) =>
        [.. facts.SelectMany(f => f.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(key => new DifferingFact(key, [.. facts.Select(f => f.TryGetValue(key, out var v) ? v : null)]))
            .Where(d => d.Values.Distinct().Count() > 1)];
}
