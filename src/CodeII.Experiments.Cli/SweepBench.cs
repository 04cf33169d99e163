using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CodeII.Experiments.Data;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;
using CodeII.Experiments.Labels;
using CodeII.Experiments.Sweep;
using CodeII.Experiments.Sweep.Tuning;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary>
/// <c>codeii bench sweep</c>: best validation AUROC against wall time on one fixed feature matrix, for our cost-frugal
/// tuner, our random search and scikit-learn's RandomizedSearchCV with HistGradientBoostingClassifier, all on the
/// same patient split, single-threaded, in the same run. scikit-learn runs first; its wall time is the budget of ours.
/// </summary>
static class SweepBench
{
    sealed record Curve(string Method, double[] Seconds, double[] Auroc, double WallSeconds)
    {
        public double Best => Auroc.Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Max();
        /// <summary>When the best-so-far first reached <paramref name="target"/>, or null if it never did.</summary>
        public double? TimeToReach(double target)
        {
            for (var i = 0; i < Auroc.Length; i++)
                if (Auroc[i] >= target) return Seconds[i];
            return null;
        }
        public double BestBy(double seconds) => Auroc.Where((_, i) => Seconds[i] <= seconds).Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Max();
    }

    public static Command Create()
    {
        var exams = new Option<int>("--exams") { Description = "Synthetic exams whose handcrafted features form the matrix", DefaultValueFactory = _ => 20_000 };
        var label = new Option<string>("--label") { Description = "The one-vs-rest label to tune", DefaultValueFactory = _ => "1dAVb" };
        var trials = new Option<int>("--trials") { Description = "scikit-learn's n_iter; its wall time then budgets our tuners", DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 7 };
        var python = new Option<string>("--python") { Description = "Python with scikit-learn (Debian: apt-get install python3-sklearn)", DefaultValueFactory = _ => "/usr/bin/python3" };
        var tuners = new Option<string[]>("--tuners") { Description = $"Our tuners to compare ({string.Join(", ", TunerCatalog.Names)})", DefaultValueFactory = _ => [TunerCatalog.Cfo, TunerCatalog.Blend, TunerCatalog.Random], AllowMultipleArgumentsPerToken = true };
        var cache = new Option<DirectoryInfo>("--cache") { Description = "Feature cache folder", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("cache", "features")) };
        var command = new Command("sweep", "Best validation AUROC against time: our CFO and random search vs scikit-learn's RandomizedSearchCV (HistGradientBoosting)")
        {
            exams, label, trials, seed, tuners, python, cache,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(CliErrors.Run(AnsiConsole.Console, () => Run(parse.GetValue(exams), parse.GetValue(label)!,
            parse.GetValue(trials), parse.GetValue(seed), parse.GetValue(tuners)!, parse.GetValue(python)!, parse.GetValue(cache)!.FullName, cancellationToken))));
        return command;
    }

    static int Run(int exams, string label, int trials, int seed, string[] tuners, string python, string cacheDirectory, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        if (!SyntheticClasses.All.Contains(label)) throw new UsageException($"--label must be one of {string.Join(", ", SyntheticClasses.All)}");
        if (tuners.FirstOrDefault(t => !TunerCatalog.Names.Contains(t)) is { } unknown)
            throw new UsageException($"--tuners: unknown tuner '{unknown}' (known: {string.Join(", ", TunerCatalog.Names)})");
        var source = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = exams, Seed = seed });
        var extractor = new HandcraftedFeatureExtractor();
        var (table, _, _) = new FeatureCache(cacheDirectory).LoadOrExtract(FeatureCache.Key(source, extractor, false, null), extractor,
            () => console.Progress().Start(context =>
            {
                var task = context.AddTask($"Extracting handcrafted features of {exams:N0} synthetic exams", maxValue: exams);
                return FeatureTableBuilder.Extract(source, extractor, Environment.ProcessorCount,
                    new ProgressCallback(p => task.Value = p.Done), cancellationToken);
            }));
        var split = PatientSplit.IterativeStratified(table.PatientIds, table.Labels, 0.6, 0.2, seed);
        var train = split.Indices(SplitPart.Train);
        var validation = split.Indices(SplitPart.Validation);
        var (development, developmentSplit) = split.WithoutTest();
        console.MarkupLineInterpolated($"{table.RowCount:N0} exams × {table.FeatureNames.Count} features; label {label}: {train.Count(i => table.Labels[i].Contains(label))} positives in {train.Length:N0} training rows, {validation.Count(i => table.Labels[i].Contains(label))} in {validation.Length:N0} validation rows; one thread each");

        // scikit-learn first, on exactly these rows: its wall time is the budget for ours.
        var matrix = Path.Combine(Path.GetTempPath(), $"codeii-bench-sweep-{exams}-{seed}-{label}.f32");
        using (var file = File.Create(matrix))
        {
            foreach (var i in train.Concat(validation)) file.Write(MemoryMarshal.AsBytes(table.Row(i)));
            foreach (var i in train.Concat(validation)) file.Write(BitConverter.GetBytes(table.Labels[i].Contains(label) ? 1f : 0f));
        }
        var args = new[] { BenchCommand.ExtractPeer("sklearn_sweep.py"), matrix, $"{train.Length}", $"{validation.Length}", $"{table.FeatureNames.Count}", $"{trials}", $"{seed}" };
        console.MarkupLineInterpolated($"scikit-learn RandomizedSearchCV, {trials} candidates …");
        var (line, problem) = BenchCommand.RunPeer(python, "python3-sklearn", args, new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1", ["OPENBLAS_NUM_THREADS"] = "1" });
        File.Delete(matrix);
        if (line is null)
        {
            CliErrors.Line($"scikit-learn peer: {problem}");
            return CliErrors.DataOrIo;
        }
        var peer = System.Text.Json.JsonDocument.Parse(line).RootElement;
        double[] Values(string name) => [.. peer.GetProperty(name).EnumerateArray().Select(v => v.ValueKind == System.Text.Json.JsonValueKind.Number ? v.GetDouble() : double.NaN)];
        var fit = Values("fit_s");
        var score = Values("score_s");
        var sklearnAuroc = Values("auroc");
        var sklearnWall = peer.GetProperty("wall_s").GetDouble();
        var elapsed = 0.0;
        var sklearn = new Curve("sklearn RS + HGB", [.. fit.Select((f, i) => elapsed += f + score[i])], BestSoFar(sklearnAuroc), sklearnWall);

        var curves = new List<Curve> { sklearn };
        foreach (var tuner in tuners)
        {
            console.MarkupLineInterpolated($"ours, {tuner}, LightGBM, budget {sklearnWall:F0} s …");
            var engine = new SweepEngine
            {
                FeatureSets = [("handcrafted", table.Take(development))],
                Split = developmentSplit,
                Subsets = [new LabelSubset(label, [label])],
                Learners = [new LearnerBudget(BinaryLearnerCatalog.LightGbm)],
                Seed = seed,
                Settings = new SweepSettings { Tuner = tuner, Budget = new SweepBudget { Trials = 100_000, Seconds = sklearnWall } },
                MaxThreads = 1,
            };
            var times = new List<double>();
            var aurocs = new List<double>();
            var clock = Stopwatch.StartNew();
            var log = Path.Combine(Path.GetTempPath(), $"codeii-bench-sweep-{label}-{tuner}.jsonl");
            File.Delete(log);
            engine.Run(trial =>
            {
                File.AppendAllText(log, System.Text.Json.JsonSerializer.Serialize(trial with { DurationSeconds = clock.Elapsed.TotalSeconds }, JsonConventions.Options).ReplaceLineEndings("") + "\n");
                if (trial.Learner != BinaryLearnerCatalog.LightGbm) return;
                times.Add(clock.Elapsed.TotalSeconds);
                aurocs.Add(trial.ValidationAuroc);
            }, cancellationToken: cancellationToken);
            curves.Add(new Curve($"ours {tuner} + LightGBM", [.. times], BestSoFar([.. aurocs]), times.LastOrDefault()));
        }

        var target = sklearn.Best;
        var result = new Table().AddColumns("method", "trials", "best AUROC", $"s to {target:F4}", "share", "best at ¼ time", "total s")
            .Caption($"validation AUROC; sklearn RS + HGB: RandomizedSearchCV over HistGradientBoostingClassifier; share: of its {sklearnWall:F0} s; best at ¼ time: after {sklearnWall / 4:F0} s");
        foreach (var curve in curves)
        {
            var reach = curve.TimeToReach(target);
            result.AddRow(Markup.Escape(curve.Method), $"{curve.Auroc.Length}", $"{curve.Best:F4}", reach is { } r ? $"{r:F1}" : "not reached",
                reach is { } s ? $"{s / sklearnWall:P0}" : "", $"{curve.BestBy(sklearnWall / 4):F4}", $"{curve.WallSeconds:F1}");
        }
        console.Write(result);
        static string Seconds(double? t) => t is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) : "NaN";
        var ours = string.Join(" ", curves.Skip(1).Select(c => FormattableString.Invariant(
            $"{c.Method.Split(' ')[1]}_best={c.Best:F4} {c.Method.Split(' ')[1]}_s_to_sklearn_best={Seconds(c.TimeToReach(target))}")));
        Console.WriteLine(FormattableString.Invariant(
            $"bench sweep: exams={exams} label={label} sklearn_trials={trials} sklearn_s={sklearnWall:F1} sklearn_best={target:F4} {ours}"));
        return 0;
    }

    static double[] BestSoFar(double[] values)
    {
        var best = double.NegativeInfinity;
        return [.. values.Select(v => double.IsNaN(v) ? best : best = Math.Max(best, v))];
    }
}
