using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Code;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Data.Wfdb;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary><c>codeii bench …</c>: speed and memory figures, printed for docs/benchmarks.md. Not a test.</summary>
static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Measure speed and memory (figures for docs/benchmarks.md)");
        command.Subcommands.Add(Data());
        command.Subcommands.Add(Features());
        command.Subcommands.Add(Torch());
        command.Subcommands.Add(SweepBench.Create());
        command.Subcommands.Add(BenchPipeline.Create());
        return command;
    }

    static Command Features()
    {
        var ecgs = new Option<int>("--ecgs") { Description = "Synthetic 12-lead, 10 s, 500 Hz ECGs to time", DefaultValueFactory = _ => 1000 };
        var python = new Option<string>("--python") { Description = "Python with scipy for the peer (Debian: apt-get install python3-scipy)", DefaultValueFactory = _ => "/usr/bin/python3" };
        var command = new Command("features", "ECGs per second per core: band-pass + R peaks + RR statistics, and the full handcrafted set, with the scipy peer") { ecgs, python };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var n = Math.Max(10, parse.GetValue(ecgs));
            const double fs = 500;
            var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = n, Seed = 3, SamplingRateHz = fs, PaddedLength = 0 });
            var records = Enumerable.Range(0, n).Select(generator.Read).ToArray();
            var samples = records[0].SampleCount;

            // (a) zero-phase 0.5–40 Hz band-pass on every lead, R peaks, RR statistics: the same work as the peer.
            var bandPass = Preprocessing.SecondOrderSections.Cascade(
                Preprocessing.SecondOrderSections.ButterworthHighPass(2, 0.5, fs), Preprocessing.SecondOrderSections.ButterworthLowPass(2, 40, fs));
            var detector = new Features.RPeakDetector();
            double StepA(EcgRecord r)
            {
                var leads = r.Signals.Select(s => (float[])s.Clone()).ToArray();
                bandPass.FilterZeroPhase(leads, 0, samples);
                return CodeII.Experiments.Features.RrStatistics.FromPeaks(detector.Detect(leads, new Range(0, samples), fs), fs)?.RmssdMs ?? double.NaN;
            }
            var extractor = new Features.HandcraftedFeatureExtractor();
            var buffer = new float[extractor.FeatureNames.Count];
            var stepA = Time(records, r => StepA(r));
            var full = Time(records, r => extractor.Extract(r, buffer));

            double? peer = null;
            var pythonPath = parse.GetValue(python)!;
            var data = Path.Combine(Path.GetTempPath(), $"codeii-bench-ecgs-{n}.f32");
            using (var file = File.Create(data))
                foreach (var r in records)
                    foreach (var lead in r.Signals) file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(lead.AsSpan()));
            var script = ExtractPeer("scipy_rpeaks.py");
            // One core for the peer too: numpy's BLAS would otherwise use every core.
            var (line, problem) = RunPeer(pythonPath, "python3-scipy", [script, data, n.ToString(CultureInfo.InvariantCulture), samples.ToString(CultureInfo.InvariantCulture), fs.ToString(CultureInfo.InvariantCulture)],
                new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1", ["OPENBLAS_NUM_THREADS"] = "1", ["MKL_NUM_THREADS"] = "1" });
            if (line is not null) peer = System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("ecgs_per_s").GetDouble();
            else console.MarkupLineInterpolated($"[yellow]scipy peer:[/] {problem}");

            var table = new Table().AddColumns("measure (1 thread, 12 leads, 10 s at 500 Hz)", "ECGs/s");
            table.AddRow("(a) band-pass + R peaks + RR statistics, ours", $"{stepA:N0}");
            table.AddRow("(a) the same with scipy/numpy", peer is { } p ? $"{p:N0}" : "not measured");
            if (peer is { } q) table.AddRow("(a) ratio ours / scipy", $"{stepA / q:0.00}×");
            table.AddRow("(b) full handcrafted set, ours", $"{full:N0}");
            console.Write(table);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench features: ecgs={n} step_a_per_s={stepA:F0} scipy_step_a_per_s={(peer is { } s ? s.ToString("F0", CultureInfo.InvariantCulture) : "NaN")} full_set_per_s={full:F0}"));
            return 0;
        }));
        return command;
    }

    static Command Torch()
    {
        var threads = new Option<int>("--threads") { Description = "libtorch threads, the same on both sides", DefaultValueFactory = _ => Environment.ProcessorCount };
        var trainBatch = new Option<int>("--train-batch") { Description = "Training batch size", DefaultValueFactory = _ => 32 };
        var inferBatch = new Option<int>("--infer-batch") { Description = "Inference batch size", DefaultValueFactory = _ => 64 };
        var iterations = new Option<int>("--iterations") { Description = "Timed batches per measurement (after two warm-up batches)", DefaultValueFactory = _ => 5 };
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds of ours and the peer; the best of each is reported", DefaultValueFactory = _ => 2 };
        var models = new Option<string>("--models") { Description = "Comma-separated: full (Ribeiro et al. 2020), small", DefaultValueFactory = _ => "full,small" };
        var python = new Option<string>("--python") { Description = "Python with torch for the peer (Debian: apt-get install python3-torch)", DefaultValueFactory = _ => "/usr/bin/python3" };
        var command = new Command("torch", "Training and inference samples/s of the 1-D ResNet, TorchSharp against the identical PyTorch model")
            { threads, trainBatch, inferBatch, iterations, rounds, models, python };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var (n, tb, ib, it) = (Math.Max(1, parse.GetValue(threads)), parse.GetValue(trainBatch), parse.GetValue(inferBatch), Math.Max(1, parse.GetValue(iterations)));
            var table = new Table().AddColumns("model", "parameters", "train ours", "train PyTorch", "ratio", "infer ours", "infer PyTorch", "ratio");
            foreach (var name in parse.GetValue(models)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var shape = name switch
                {
                    "full" => CodeII.Experiments.Features.Learned.ResNetShape.Ribeiro2020,
                    "small" => CodeII.Experiments.Features.Learned.ResNetShape.Small,
                    _ => throw new UsageException($"unknown model '{name}': use full or small"),
                };
                TorchRate ours = new(0, 0, 0), peer = new(0, 0, 0);
                string? peerProblem = null;
                for (var round = 0; round < Math.Max(1, parse.GetValue(rounds)); round++)
                {
                    console.MarkupLineInterpolated($"[grey]{name}: round {round + 1}, TorchSharp…[/]");
                    ours = TorchRate.Best(ours, MeasureTorchSharp(shape, n, tb, ib, it));
                    console.MarkupLineInterpolated($"[grey]{name}: round {round + 1}, PyTorch…[/]");
                    var (measured, problem) = MeasurePyTorch(parse.GetValue(python)!, shape, n, tb, ib, it);
                    if (measured is { } m) peer = TorchRate.Best(peer, m);
                    peerProblem ??= problem;
                }
                if (peerProblem is not null) console.MarkupLineInterpolated($"[yellow]PyTorch peer:[/] {peerProblem}");
                if (peer.Parameters != 0 && peer.Parameters != ours.Parameters)
                    console.MarkupLineInterpolated($"[red]the peer's model has {peer.Parameters:N0} parameters, ours {ours.Parameters:N0}: not the same architecture[/]");
                string Rate(double r) => r > 0 ? r.ToString("N1", CultureInfo.InvariantCulture) : "n/a";
                string Ratio(double a, double b) => a > 0 && b > 0 ? $"{a / b:0.00}×" : "n/a";
                table.AddRow(name, ours.Parameters.ToString("N0", CultureInfo.InvariantCulture), Rate(ours.Train), Rate(peer.Train), Ratio(ours.Train, peer.Train),
                    Rate(ours.Infer), Rate(peer.Infer), Ratio(ours.Infer, peer.Infer));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"bench torch: model={name} threads={n} train_batch={tb} infer_batch={ib} ours_train={ours.Train:F2} peer_train={peer.Train:F2} ours_infer={ours.Infer:F2} peer_infer={peer.Infer:F2}"));
            }
            console.Write(table);
            console.MarkupLine("[grey]samples/s, float32, CPU; best of the rounds on each side[/]");
            return 0;
        }));
        return command;
    }

    sealed record TorchRate(long Parameters, double Train, double Infer)
    {
        public static TorchRate Best(TorchRate a, TorchRate b) => new(Math.Max(a.Parameters, b.Parameters), Math.Max(a.Train, b.Train), Math.Max(a.Infer, b.Infer));
    }

    /// <summary>The same steps as the peer script: forward, BCE with logits, backward and Adam; then forward alone in
    /// evaluation mode without gradients. Each step is the product's: in a dispose scope, gradients cleared by
    /// <see cref="CodeII.Experiments.Features.Learned.ResNet1d.ClearGradients"/> as the trainer does, inference in
    /// libtorch's inference mode as the trainer's validation and the embeddings stage do.</summary>
    static TorchRate MeasureTorchSharp(CodeII.Experiments.Features.Learned.ResNetShape shape, int threads, int trainBatch, int inferBatch, int iterations)
    {
        CodeII.Experiments.Features.Learned.TorchRuntime.EnsureLoaded(threads);
        using var model = new CodeII.Experiments.Features.Learned.ResNet1d(shape, seed: 0);
        using var optimizer = TorchSharp.torch.optim.Adam(model.parameters(), 1e-3);
        using var x = TorchSharp.torch.randn(trainBatch, shape.Leads, shape.InputSamples);
        using var y = (TorchSharp.torch.rand(trainBatch, shape.Classes) < 0.1).to_type(TorchSharp.torch.float32);
        void TrainStep()
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            model.ClearGradients();
            TorchSharp.torch.nn.functional.binary_cross_entropy_with_logits(model.forward(x), y).backward();
            optimizer.step();
        }
        model.train();
        WarmUp(TrainStep);
        var train = Rate(TrainStep, iterations, trainBatch);

        model.eval();
        using var xi = TorchSharp.torch.randn(inferBatch, shape.Leads, shape.InputSamples);
        using var inference = TorchSharp.torch.inference_mode();
        void InferStep()
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            model.forward(xi);
        }
        WarmUp(InferStep);
        return new TorchRate(model.ParameterCount(), train, Rate(InferStep, iterations, inferBatch));
    }

    /// <summary>Two steps and at least two seconds: .NET's tiered compiler swaps in optimised code after some calls,
    /// and with a small model the managed side of each step is a visible share of its time.</summary>
    static void WarmUp(Action step)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 2 || clock.Elapsed < TimeSpan.FromSeconds(2); i++) step();
    }

    /// <summary>Samples per second over at least <paramref name="iterations"/> steps and at least three seconds.</summary>
    static double Rate(Action step, int iterations, int batch)
    {
        var clock = Stopwatch.StartNew();
        var steps = 0;
        for (; steps < iterations || clock.Elapsed < TimeSpan.FromSeconds(3); steps++) step();
        return steps * batch / clock.Elapsed.TotalSeconds;
    }

    static (TorchRate? Rate, string? Problem) MeasurePyTorch(string python, CodeII.Experiments.Features.Learned.ResNetShape shape, int threads, int trainBatch, int inferBatch, int iterations)
    {
        var shapeFile = Path.Combine(Path.GetTempPath(), $"codeii-bench-shape-{Environment.ProcessId}.json");
        File.WriteAllText(shapeFile, System.Text.Json.JsonSerializer.Serialize(shape));
        var script = ExtractPeer("torch_resnet.py");
        var (output, problem) = RunPeer(python, "python3-torch", [script, shapeFile, $"{threads}", $"{trainBatch}", $"{inferBatch}", $"{iterations}"],
            new Dictionary<string, string> { ["OMP_NUM_THREADS"] = $"{threads}", ["MKL_NUM_THREADS"] = $"{threads}" });
        if (output is null) return (null, problem);
        var json = System.Text.Json.JsonDocument.Parse(output).RootElement;
        return (new TorchRate(json.GetProperty("parameters").GetInt64(), json.GetProperty("train_samples_per_s").GetDouble(), json.GetProperty("infer_samples_per_s").GetDouble()), null);
    }

    /// <summary>Writes an embedded peer script to the temp folder and returns its path.</summary>
    internal static string ExtractPeer(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), "codeii_" + name);
        using var resource = typeof(BenchCommand).Assembly.GetManifestResourceStream("CodeII.Experiments.Cli.Peers." + name)!;
        using var output = File.Create(path);
        resource.CopyTo(output);
        return path;
    }

    /// <summary>Runs a peer and returns its last output line, or why it could not run: a Python module that is missing is
    /// named with the Debian package that brings it (<paramref name="packageOfModule"/>'s, when it names the missing
    /// module; else <paramref name="debianPackage"/>), never left as a traceback.</summary>
    internal static (string? LastLine, string? Problem) RunPeer(string python, string debianPackage, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment,
        IReadOnlyDictionary<string, string>? packageOfModule = null)
    {
        try
        {
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in arguments) start.ArgumentList.Add(a);
            foreach (var (k, v) in environment) start.Environment[k] = v;
            using var process = Process.Start(start)!;
            var stderrTask = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            var stderr = stderrTask.Result;
            var last = stderr.Trim().Split('\n')[^1];
            return process.ExitCode == 0 ? (stdout.Trim().Split('\n')[^1], null)
                : last.Contains("ModuleNotFoundError", StringComparison.Ordinal) ? (null, $"{python} lacks a module ({last}); install the peer with: apt-get install {PackageOf(last, packageOfModule) ?? debianPackage}")
                : (null, $"{python} failed: {last}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (null, $"no {python}: install the peer with: apt-get install {debianPackage}");
        }
    }

    /// <summary>The Debian package of the module a "ModuleNotFoundError: No module named 'x.y'" line names, if known.</summary>
    internal static string? PackageOf(string error, IReadOnlyDictionary<string, string>? packageOfModule)
    {
        var match = System.Text.RegularExpressions.Regex.Match(error, "No module named '([^'.]+)");
        return match.Success && packageOfModule is not null && packageOfModule.TryGetValue(match.Groups[1].Value, out var package) ? package : null;
    }

    /// <summary>
    /// Single-threaded records per second in the steady state: the work is first repeated for two seconds, long enough
    /// for the runtime's tiered compiler to replace the first, unoptimised code with the final vectorised code, as
    /// happens early in any real extraction run.
    /// </summary>
    static double Time(EcgRecord[] records, Action<EcgRecord> work)
    {
        var warmUp = Stopwatch.StartNew();
        for (var i = 0; warmUp.Elapsed < TimeSpan.FromSeconds(2); i++) work(records[i % records.Length]);
        var clock = Stopwatch.StartNew();
        foreach (var r in records) work(r);
        return records.Length / clock.Elapsed.TotalSeconds;
    }

    const int PureHdfBenchExams = 4_000;

    static Command Data()
    {
        var exams = new Option<int>("--exams") { Description = "Exams in the synthetic CODE-15% file streamed for the memory figure", DefaultValueFactory = _ => 20_000 };
        var wfdbRecords = new Option<int>("--wfdb-records") { Description = "Synthetic 500 Hz, 10 s WFDB records decoded for the WFDB figure", DefaultValueFactory = _ => 2_000 };
        var work = new Option<DirectoryInfo>("--work") { Description = "Scratch folder (kept, so a second run reuses the files)", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Path.GetTempPath(), "codeii-bench-data")) };
        var threads = new Option<int>("--max-threads") { Description = "Decoding threads (and h5py reader processes)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var python = new Option<string>("--python") { Description = "Python with h5py for the peer (Debian: apt-get install python3-h5py)", DefaultValueFactory = _ => "/usr/bin/python3" };
        var command = new Command("data", "Exams/s reading CODE HDF5 directly, through PureHDF and with h5py; WFDB decoding; peak memory while streaming a CODE-15% file")
            { exams, wfdbRecords, work, threads, python };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var n = parse.GetValue(exams);
            var maxThreads = Math.Max(1, parse.GetValue(threads));
            var root = parse.GetValue(work)!.FullName;
            var codeDir = Path.Combine(root, $"code15-{n}");
            var wfdbDir = Path.Combine(root, $"wfdb500-{parse.GetValue(wfdbRecords)}");

            if (!File.Exists(Path.Combine(codeDir, CodeLayout.MetadataFile)))
            {
                console.MarkupLineInterpolated($"writing {n:N0} synthetic exams in the CODE-15% layout to {codeDir} (once; reused next time)");
                CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = n, Seed = 1 }), codeDir, maxThreads: maxThreads);
            }
            var wfdbCount = parse.GetValue(wfdbRecords);
            if (!File.Exists(Path.Combine(wfdbDir, "RECORDS")))
            {
                console.MarkupLineInterpolated($"writing {wfdbCount:N0} synthetic 500 Hz WFDB records to {wfdbDir}");
                var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = wfdbCount, Seed = 2, SamplingRateHz = 500, PaddedLength = 0 });
                Parallel.For(0, wfdbCount, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, i => WfdbWriter.Write(generator.Read(i), wfdbDir));
                File.WriteAllLines(Path.Combine(wfdbDir, "RECORDS"), Enumerable.Range(0, wfdbCount).Select(generator.ExamIdAt));
            }

            // Every reader is timed on a file just read through, so that it finds it in the page cache (unless the
            // machine lacks the memory): the figures compare decoding, not the disk.
            var parts = Directory.GetFiles(codeDir, "*.hdf5").Order(StringComparer.Ordinal).ToArray();
            void Cache()
            {
                foreach (var part in parts) ReadThrough(part);
            }
            Cache();

            // Forget the writing phase's peak so the figure is the streaming read's alone (Linux: clear_refs 5 resets VmHWM).
            ResetPeakWorkingSet();
            console.MarkupLine("[grey]CODE HDF5, direct…[/]");
            string readPath;
            double fastRate;
            long codeBytes;
            using (var direct = new CodeHdf5Source(codeDir))
            {
                readPath = direct.ReadPath;
                (fastRate, codeBytes) = Stream(direct, maxThreads);
            }
            var peak = PeakWorkingSetBytes();
            double fastSlabRate;
            Cache();
            using (var direct = new CodeHdf5Source(codeDir)) fastSlabRate = StreamSlabs(direct, maxThreads);
            console.MarkupLine("[grey]CODE HDF5, through PureHDF…[/]");
            // PureHDF is the slow path: a share of the file gives its rate without minutes of waiting.
            var pureHdfExams = Math.Min(n, PureHdfBenchExams);
            double pureHdfRate;
            using (var pureHdf = new CodeHdf5Source(codeDir, CodeHdf5Reading.PureHdf)) (pureHdfRate, _) = Stream(pureHdf, maxThreads, pureHdfExams);
            console.MarkupLine("[grey]CODE HDF5, h5py…[/]");
            Cache();
            var (line, problem) = RunPeer(parse.GetValue(python)!, "python3-h5py", [ExtractPeer("h5py_read.py"), maxThreads.ToString(CultureInfo.InvariantCulture), .. parts],
                new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1", ["OPENBLAS_NUM_THREADS"] = "1" });
            var (h5pyRate, h5pySlabRate) = (double.NaN, double.NaN);
            if (line is not null)
            {
                var peer = System.Text.Json.JsonDocument.Parse(line).RootElement;
                (h5pyRate, h5pySlabRate) = (peer.GetProperty("record_exams_per_s").GetDouble(), peer.GetProperty("slab_exams_per_s").GetDouble());
            }
            if (problem is not null) console.MarkupLineInterpolated($"[yellow]h5py peer:[/] {problem}");
            var (wfdbRate, _) = Stream(new WfdbFolderSource(Directory.GetFiles(wfdbDir, "*.hea")), maxThreads);

            string Rate(double rate) => double.IsNaN(rate) ? "not measured" : $"{rate:N0} exams/s";
            string Ratio(double ours, double theirs) => double.IsNaN(theirs) ? "" : $" ({ours / theirs:0.00}× h5py)";
            console.MarkupLineInterpolated($"direct read path: {readPath}");
            var table = new Table().AddColumns($"CODE HDF5, 400 Hz, 4096 × 12 ({maxThreads} threads; h5py: {maxThreads} processes)", "exams/s");
            table.AddRow("record: direct (12 lead arrays, finite check, padding found)", Rate(fastRate) + Ratio(fastRate, h5pyRate));
            table.AddRow($"record: PureHDF, a handle per thread (the first {pureHdfExams:N0} exams)", Rate(pureHdfRate));
            table.AddRow("record: h5py tracings[[i]] + numpy doing the same", Rate(h5pyRate));
            table.AddRow("slab: direct, (4096, 12) as stored", Rate(fastSlabRate) + Ratio(fastSlabRate, h5pySlabRate));
            table.AddRow("slab: h5py tracings[[i]], bare", Rate(h5pySlabRate));
            console.Write(table);
            var other = new Table().AddColumns("measure", "value");
            other.AddRow($"WFDB format 16 decode (500 Hz, 5000 × 12), {maxThreads} threads", $"{wfdbRate:N0} records/s");
            other.AddRow($"peak working set streaming {n:N0} exams directly ({codeBytes / 1e9:0.0} GB of signal)", $"{peak / 1048576.0:N0} MiB");
            console.Write(other);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench data: hdf5_fast_per_s={fastRate:F0} hdf5_purehdf_per_s={pureHdfRate:F0} h5py_per_s={(double.IsNaN(h5pyRate) ? "NaN" : h5pyRate.ToString("F0", CultureInfo.InvariantCulture))} wfdb_per_s={wfdbRate:F0} peak_mib={peak / 1048576.0:F0}"));
            return 0;
        }));
        return command;
    }

    static void ReadThrough(string path)
    {
        var buffer = new byte[1 << 20];
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        while (file.Read(buffer) > 0) { }
    }

    /// <summary>Reads the first <paramref name="count"/> records (all by default) once, in parallel, keeping none;
    /// returns records/s and signal bytes seen. A second of reading first, untimed, lets the runtime's tiered compiler
    /// put in its final code, as it does early in any real run.</summary>
    static (double RecordsPerSecond, long Bytes) Stream(IEcgSource source, int maxThreads, int count = int.MaxValue)
    {
        count = Math.Min(count, source.Count);
        var warmUp = Stopwatch.StartNew();
        for (var i = 0; warmUp.Elapsed < TimeSpan.FromSeconds(1); i++) source.Read(i % count);
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, () => 0L,
            (i, _, local) => local + source.Read(i).Signals.Sum(s => (long)s.Length * sizeof(float)),
            local => Interlocked.Add(ref bytes, local));
        return (count / clock.Elapsed.TotalSeconds, bytes);
    }

    /// <summary>Exams/s reading each exam's slab as stored into a per-thread buffer, nothing more: h5py's
    /// <c>tracings[i]</c>. Warmed up as <see cref="Stream"/> is.</summary>
    static double StreamSlabs(CodeHdf5Source source, int maxThreads)
    {
        var values = source.SamplesPerExam * CodeLayout.Leads;
        var warmUp = Stopwatch.StartNew();
        var buffer = new float[values];
        for (var i = 0; warmUp.Elapsed < TimeSpan.FromSeconds(1); i++) source.ReadTracings(i % source.Count, buffer);
        var clock = Stopwatch.StartNew();
        Parallel.For(0, source.Count, new ParallelOptions { MaxDegreeOfParallelism = maxThreads }, () => new float[values],
            (i, _, slab) => { source.ReadTracings(i, slab); return slab; }, _ => { });
        return source.Count / clock.Elapsed.TotalSeconds;
    }

    static void ResetPeakWorkingSet()
    {
        GC.Collect();
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    static long PeakWorkingSetBytes()
    {
        // VmHWM (kB) honours the reset above; Process.PeakWorkingSet64 reads the same counter on Linux.
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }
}
