using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Labels;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Sweep;
using CodeII.Experiments.Sweep.Tuning;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary>
/// <c>codeii bench sweep</c>: best validation AUROC against wall time on one fixed feature matrix, our tuners (LightGBM)
/// against Python peers (Optuna's TPE over HistGradientBoosting and over XGBoost, or scikit-learn's random search), for
/// every label and seed of a grid: the seed changes the patient split and every search's seed. In each cell the peers
/// run first, then ours, each single-threaded on the same training and validation rows, so ours and theirs alternate
/// through the run and drift of a shared machine hits both; the peers' wall time sets our budget.
/// </summary>
static class SweepBench
{
    /// <summary>A Python peer: its script and arguments, and the Debian packages its imports come from.</summary>
    sealed record Peer(string Name, string Key, string Title, string Script, string[] Arguments, string[] Packages);

    static readonly Peer[] Peers =
    [
        new("optuna-hgb", "optuna", "Optuna TPE + HistGradientBoosting", "optuna_sweep.py", ["hgb"], ["python3-optuna", "python3-sklearn"]),
        new("optuna-xgb", "optuna_xgb", "Optuna TPE + XGBoost hist", "optuna_sweep.py", ["xgb"], ["python3-optuna", "python3-xgboost", "python3-sklearn"]),
        new("sklearn", "sklearn", "scikit-learn RandomizedSearchCV + HistGradientBoosting", "sklearn_sweep.py", [], ["python3-sklearn"]),
    ];

    /// <summary>The Debian package of each module a peer imports, so a missing one is named.</summary>
    static readonly Dictionary<string, string> PackageOfModule = new(StringComparer.Ordinal)
    {
        ["optuna"] = "python3-optuna", ["xgboost"] = "python3-xgboost", ["sklearn"] = "python3-sklearn",
        ["numpy"] = "python3-numpy", ["scipy"] = "python3-scipy",
    };

    public static Command Create()
    {
        var exams = new Option<int>("--exams") { Description = "Synthetic exams whose handcrafted features form the matrix", DefaultValueFactory = _ => 10_000 };
        var labels = new Option<string>("--labels") { Description = "One-vs-rest labels to tune, comma-separated", DefaultValueFactory = _ => "1dAVb,RBBB,LBBB" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per label: --seed, --seed + 1, …; each changes the patient split and every search's seed", DefaultValueFactory = _ => 3 };
        var seed = new Option<int>("--seed") { Description = "The first seed; the synthetic exams are always generated with it", DefaultValueFactory = _ => 7 };
        var trials = new Option<int>("--trials") { Description = "Trials of each peer (Optuna's n_trials, scikit-learn's n_iter)", DefaultValueFactory = _ => 30 };
        var peers = new Option<string[]>("--peers") { Description = $"Python peers ({string.Join(", ", Peers.Select(p => p.Name))})", DefaultValueFactory = _ => ["optuna-hgb", "optuna-xgb"], AllowMultipleArgumentsPerToken = true };
        var tuners = new Option<string[]>("--tuners") { Description = $"Our tuners to compare ({string.Join(", ", TunerCatalog.Names)})", DefaultValueFactory = _ => [TunerCatalog.Blend, TunerCatalog.Cfo], AllowMultipleArgumentsPerToken = true };
        var parallel = new Option<int>("--parallel") { Description = "Searches run at once, each on one thread: the peers side by side, then ours side by side", DefaultValueFactory = _ => 2 };
        var share = new Option<double>("--budget-share") { Description = "Our budget as a share of the longest peer's wall time in the cell", DefaultValueFactory = _ => 0.5 };
        var python = new Option<string>("--python") { Description = "Debian's Python with the peers (apt-get install python3-optuna python3-xgboost python3-sklearn)", DefaultValueFactory = _ => "/usr/bin/python3" };
        var cache = new Option<DirectoryInfo>("--cache") { Description = "Feature cache folder", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("cache", "features")) };
        var command = new Command("sweep", "Best validation AUROC against time, and the test AUROC of each search's choice: our tuners (LightGBM) vs Optuna's TPE (HistGradientBoosting, XGBoost) over labels × seeds")
        {
            exams, labels, seeds, seed, trials, peers, tuners, share, parallel, python, cache,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(CliErrors.Run(AnsiConsole.Console, () => Run(parse.GetValue(exams),
            [.. parse.GetValue(labels)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)], parse.GetValue(seeds), parse.GetValue(seed),
            parse.GetValue(trials), parse.GetValue(peers)!, parse.GetValue(tuners)!, parse.GetValue(share), parse.GetValue(parallel), parse.GetValue(python)!, parse.GetValue(cache)!.FullName, cancellationToken))));
        return command;
    }

    /// <summary>One label and seed: every peer's curve and every tuner's.</summary>
    sealed record Cell(string Label, int Seed, IReadOnlyList<SearchCurve> Peers, IReadOnlyList<SearchCurve> Ours);

    static int Run(int exams, string[] labels, int seeds, int firstSeed, int trials, string[] peerNames, string[] tuners, double budgetShare, int parallel, string python,
        string cacheDirectory, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        if (labels.Length == 0) throw new UsageException("--labels names no label");
        if (labels.FirstOrDefault(l => !SyntheticClasses.All.Contains(l)) is { } unknownLabel)
            throw new UsageException($"--labels: unknown label '{unknownLabel}' (known: {string.Join(", ", SyntheticClasses.All)})");
        if (tuners.FirstOrDefault(t => !TunerCatalog.Names.Contains(t)) is { } unknown)
            throw new UsageException($"--tuners: unknown tuner '{unknown}' (known: {string.Join(", ", TunerCatalog.Names)})");
        if (peerNames.FirstOrDefault(p => Peers.All(k => k.Name != p)) is { } unknownPeer)
            throw new UsageException($"--peers: unknown peer '{unknownPeer}' (known: {string.Join(", ", Peers.Select(p => p.Name))})");
        if (peerNames.Length == 0) throw new UsageException("--peers names no peer");
        if (seeds < 1 || trials < 1 || parallel < 1 || !(budgetShare > 0)) throw new UsageException("--seeds, --trials and --parallel must be at least 1 and --budget-share above 0");
        var peers = peerNames.Distinct().Select(n => Peers.Single(p => p.Name == n)).ToArray();
        // Extracted once: peers sharing a script run side by side, and a script being rewritten cannot be started.
        var scripts = peers.Select(p => p.Script).Distinct().ToDictionary(s => s, BenchCommand.ExtractPeer);

        var source = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = exams, Seed = firstSeed });
        var extractor = new HandcraftedFeatureExtractor();
        var (table, _, _) = new FeatureCache(cacheDirectory).LoadOrExtract(FeatureCache.Key(source, extractor, false, null), extractor,
            () => console.Progress().Start(context =>
            {
                var task = context.AddTask($"Extracting handcrafted features of {exams:N0} synthetic exams", maxValue: exams);
                return FeatureTableBuilder.Extract(source, extractor, Environment.ProcessorCount,
                    new ProgressCallback(p => task.Value = p.Done), cancellationToken);
            }));
        console.MarkupLineInterpolated($"{table.RowCount:N0} exams × {table.FeatureNames.Count} features; {labels.Length} labels × {seeds} seeds; peers: {string.Join(", ", peers.Select(p => p.Title))}, {trials} trials each; ours: {string.Join(", ", tuners)} with LightGBM, budget {budgetShare:P0} of the longest peer's wall time; one thread each, {parallel} at once");

        var grid = new List<Cell>();
        var clock = Stopwatch.StartNew();
        var cellCount = labels.Length * seeds;
        for (var s = 0; s < seeds; s++)
        {
            var seed = firstSeed + s;
            var split = PatientSplit.IterativeStratified(table.PatientIds, table.Labels, 0.6, 0.2, seed);
            foreach (var label in labels)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var cellNumber = grid.Count + 1;
                string Prefix() => $"[{cellNumber}/{cellCount}, {clock.Elapsed:h\\:mm\\:ss}] {label}, seed {seed}";
                var cell = RunCell(console, Prefix, table, split, label, seed, trials, peers, scripts, tuners, budgetShare, parallel, python, cancellationToken);
                if (cell is null) return CliErrors.DataOrIo;
                grid.Add(cell);
                WriteCell(console, cell);
            }
        }
        WriteSummary(console, grid, peers, tuners, labels, clock.Elapsed, exams, trials, budgetShare);
        return 0;
    }

    static Cell? RunCell(IAnsiConsole console, Func<string> prefix, FeatureTable table, PatientSplit split, string label, int seed, int trials, Peer[] peers,
        IReadOnlyDictionary<string, string> scripts, string[] tuners, double budgetShare, int parallel, string python, CancellationToken cancellationToken)
    {
        var train = split.Indices(SplitPart.Train);
        var validation = split.Indices(SplitPart.Validation);
        var test = split.Indices(SplitPart.Test);
        var (development, developmentSplit) = split.WithoutTest();
        bool Positive(int i) => table.Labels[i].Contains(label);
        var gate = new Lock();
        void Say(FormattableString line)
        {
            lock (gate) console.MarkupLineInterpolated(line);
        }
        Say($"{prefix()}: {train.Count(Positive)} positives in {train.Length:N0} training rows, {validation.Count(Positive)} in {validation.Length:N0} validation rows, {test.Count(Positive)} in {test.Length:N0} test rows");

        // The peers see exactly these rows: training, validation, then test (scored once, by each peer's choice).
        var matrix = Path.Combine(Path.GetTempPath(), $"codeii-bench-sweep-{Environment.ProcessId}-{seed}-{label}.f32");
        using (var file = File.Create(matrix))
        {
            foreach (var i in train.Concat(validation).Concat(test)) file.Write(MemoryMarshal.AsBytes(table.Row(i)));
            foreach (var i in train.Concat(validation).Concat(test)) file.Write(BitConverter.GetBytes(Positive(i) ? 1f : 0f));
        }
        (SearchCurve? Curve, string? Problem)[] peerRuns;
        try
        {
            peerRuns = InParallel(peers.Length, parallel, cancellationToken, p =>
            {
                var peer = peers[p];
                Say($"{prefix()}: {peer.Title}, {trials} trials …");
                var (line, problem) = BenchCommand.RunPeer(python, string.Join(' ', peer.Packages),
                    [scripts[peer.Script], matrix, $"{train.Length}", $"{validation.Length}", $"{test.Length}", $"{table.FeatureNames.Count}", $"{trials}", $"{seed}", .. peer.Arguments],
                    new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1", ["OPENBLAS_NUM_THREADS"] = "1", ["MKL_NUM_THREADS"] = "1" }, PackageOfModule);
                if (line is null) return (Curve: (SearchCurve?)null, Problem: (string?)$"{peer.Title} peer: {problem}");
                File.WriteAllText(Path.Combine(Path.GetTempPath(), $"codeii-bench-sweep-{label}-{seed}-{peer.Name}.json"), line + "\n");
                var curve = PeerOutput.Parse(peer.Key, line);
                Say($"{prefix()}: {peer.Title}: best {curve.Best:F4} after {curve.WallSeconds:F1} s ({curve.Trials} trials), test {curve.TestAuroc:F4}");
                return (Curve: (SearchCurve?)curve, Problem: (string?)null);
            });
        }
        finally
        {
            File.Delete(matrix);
        }
        if (peerRuns.FirstOrDefault(r => r.Problem is not null).Problem is { } failed)
        {
            CliErrors.Line(failed);
            return null;
        }
        var peerCurves = peerRuns.Select(r => r.Curve!).ToArray();

        var budget = budgetShare * peerCurves.Max(c => c.WallSeconds);
        var testRows = test.Select(i => table.Row(i).ToArray()).ToArray();
        var testTruth = test.Select(Positive).ToArray();
        var developmentTable = table.Take(development);
        var ours = InParallel(tuners.Length, parallel, cancellationToken, t =>
        {
            var tuner = tuners[t];
            Say($"{prefix()}: ours, {tuner} + LightGBM, budget {budget:F1} s …");
            var engine = new SweepEngine
            {
                FeatureSets = [("handcrafted", developmentTable)],
                Split = developmentSplit,
                Subsets = [new LabelSubset(label, [label])],
                Learners = [new LearnerBudget(BinaryLearnerCatalog.LightGbm)],
                Seed = seed,
                Settings = new SweepSettings { Tuner = tuner, Budget = new SweepBudget { Trials = 100_000, Seconds = budget } },
                MaxThreads = 1,
            };
            var times = new List<double>();
            var aurocs = new List<double>();
            var log = Path.Combine(Path.GetTempPath(), $"codeii-bench-sweep-{label}-{seed}-{tuner}.jsonl");
            File.Delete(log);
            var clock = Stopwatch.StartNew();
            var result = engine.Run(trial =>
            {
                File.AppendAllText(log, System.Text.Json.JsonSerializer.Serialize(trial with { DurationSeconds = clock.Elapsed.TotalSeconds }, JsonConventions.Options).ReplaceLineEndings("") + "\n");
                if (trial.Learner != BinaryLearnerCatalog.LightGbm) return;
                times.Add(clock.Elapsed.TotalSeconds);
                aurocs.Add(trial.ValidationAuroc);
            }, cancellationToken: cancellationToken);
            var wall = clock.Elapsed.TotalSeconds;
            // The engine's choice (its best validation trial) scores the test rows once.
            var chosen = result.Selected.Single(m => m.Trial.Learner == BinaryLearnerCatalog.LightGbm).Fitted;
            var testScores = chosen.ScoreRows is { } direct ? direct(testRows)
                : throw new InvalidOperationException("LightGBM's fitted model scores rows directly");
            var curve = SearchCurve.FromTrials(tuner, times, aurocs, wall, BinaryMetrics.Auroc(testScores, testTruth));
            Say($"{prefix()}: {tuner}: best {curve.Best:F4} in {curve.Trials} trials, test {curve.TestAuroc:F4}; {string.Join("; ", peerCurves.Select(p => $"{p.Method}'s best at {Shares.Percent(curve.ShareToReach(p))} of its time"))}");
            return curve;
        });
        return new Cell(label, seed, peerCurves, ours);
    }

    /// <summary>Runs <paramref name="count"/> searches, at most <paramref name="parallel"/> at once, in their order.</summary>
    static T[] InParallel<T>(int count, int parallel, CancellationToken cancellationToken, Func<int, T> work)
    {
        var results = new T[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken }, i => results[i] = work(i));
        return results;
    }

    static void WriteCell(IAnsiConsole console, Cell cell)
    {
        var table = new Table().AddColumns("method", "trials", "best validation AUROC", "test AUROC", "wall s")
            .Caption($"{cell.Label}, seed {cell.Seed}");
        foreach (var p in cell.Peers) table.AddColumn($"s to {p.Method}'s best (share)");
        foreach (var curve in cell.Peers.Concat(cell.Ours))
        {
            var isPeer = cell.Peers.Contains(curve);
            table.AddRow([Markup.Escape(curve.Method), $"{curve.Trials}", $"{curve.Best:F4}", $"{curve.TestAuroc:F4}", $"{curve.WallSeconds:F1}",
                .. cell.Peers.Select(p => isPeer ? "" : curve.TimeToReach(p.Best) is { } t ? $"{t:F1} ({t / p.WallSeconds:P0})" : "not reached")]);
        }
        console.Write(table);
    }

    static void WriteSummary(IAnsiConsole console, List<Cell> grid, Peer[] peers, string[] tuners, string[] labels, TimeSpan elapsed, int exams, int trials, double budgetShare)
    {
        string Range((double Median, double Min, double Max) s) => $"{Shares.Percent(s.Median)} ({Shares.Percent(s.Min)}–{Shares.Percent(s.Max)})";
        double Median(IEnumerable<double> values) => Shares.Summary([.. values]).Median;
        var table = new Table().AddColumn("label")
            .Caption($"median (range) over {grid.Count / labels.Length} seeds of the time ours needs to reach a peer's final validation best, as a share of the peer's wall time; ours ran for {budgetShare:P0} of the longest peer's time, so \"not reached\" means not within that budget and ranks above every reached share");
        foreach (var tuner in tuners)
            foreach (var peer in peers) table.AddColumn($"{tuner} to {peer.Key}");
        foreach (var label in labels)
        {
            var cells = grid.Where(c => c.Label == label).ToArray();
            table.AddRow([label, .. tuners.SelectMany((_, t) => peers.Select((_, p) => Range(Shares.Summary([.. cells.Select(c => c.Ours[t].ShareToReach(c.Peers[p]))]))))]);
        }
        table.AddRow(["all", .. tuners.SelectMany((_, t) => peers.Select((_, p) => Range(Shares.Summary([.. grid.Select(c => c.Ours[t].ShareToReach(c.Peers[p]))]))))]);
        console.Write(table);

        var quality = new Table().AddColumns("label", "method", "best validation AUROC (median)", "test AUROC: median (range)", "wall s (median)")
            .Caption("the test AUROC of each search's choice, its best validation trial");
        foreach (var label in labels)
        {
            var cells = grid.Where(c => c.Label == label).ToArray();
            foreach (var (method, curves) in peers.Select((p, i) => (p.Key, cells.Select(c => c.Peers[i]).ToArray()))
                         .Concat(tuners.Select((t, i) => (t, cells.Select(c => c.Ours[i]).ToArray()))))
            {
                var testAuroc = Shares.Summary([.. curves.Select(c => c.TestAuroc)]);
                quality.AddRow(label, method, $"{Median(curves.Select(c => c.Best)):F4}", $"{testAuroc.Median:F4} ({testAuroc.Min:F4}–{testAuroc.Max:F4})", $"{Median(curves.Select(c => c.WallSeconds)):F1}");
            }
        }
        console.Write(quality);

        // One machine-readable line: medians over every label and seed, then per label.
        var fields = new List<string> { $"exams={exams}", $"labels={string.Join(',', labels)}", $"seeds={grid.Count / labels.Length}", $"peer_trials={trials}",
            $"budget_share={Shares.Value(budgetShare, "F2")}", $"grid_s={Shares.Value(elapsed.TotalSeconds, "F0")}" };
        for (var p = 0; p < peers.Length; p++)
        {
            var key = peers[p].Key;
            fields.Add($"{key}_s={Shares.Value(Median(grid.Select(c => c.Peers[p].WallSeconds)), "F1")}");
            fields.Add($"{key}_best={Shares.Value(Median(grid.Select(c => c.Peers[p].Best)), "F4")}");
            fields.Add($"{key}_test={Shares.Value(Median(grid.Select(c => c.Peers[p].TestAuroc)), "F4")}");
        }
        for (var t = 0; t < tuners.Length; t++)
        {
            fields.Add($"{tuners[t]}_best={Shares.Value(Median(grid.Select(c => c.Ours[t].Best)), "F4")}");
            fields.Add($"{tuners[t]}_test={Shares.Value(Median(grid.Select(c => c.Ours[t].TestAuroc)), "F4")}");
            for (var p = 0; p < peers.Length; p++)
            {
                fields.Add($"{tuners[t]}_s_to_{peers[p].Key}_best={Shares.Value(Median(grid.Select(c => c.Ours[t].TimeToReach(c.Peers[p].Best) ?? double.PositiveInfinity)), "F1")}");
                fields.Add($"{tuners[t]}_share_of_{peers[p].Key}={Shares.Value(Median(grid.Select(c => c.Ours[t].ShareToReach(c.Peers[p]))))}");
                foreach (var label in labels)
                    fields.Add($"{tuners[t]}_share_of_{peers[p].Key}_{label}={Shares.Value(Median(grid.Where(c => c.Label == label).Select(c => c.Ours[t].ShareToReach(c.Peers[p]))))}");
            }
        }
        Console.WriteLine("bench sweep: " + string.Join(' ', fields.Select(f => f.ToString(CultureInfo.InvariantCulture))));
    }
}
