using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Data.PtbXl;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Experiments;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary><c>codeii data …</c>: look at datasets before running experiments on them.</summary>
static class DataCommand
{
    public static Command Create()
    {
        var command = new Command("data", "Inspect, plot and write ECG datasets");
        command.Subcommands.Add(Inspect());
        command.Subcommands.Add(Synth());
        command.Subcommands.Add(Plot());
        return command;
    }

    static Command Plot()
    {
        var path = new Argument<string>("path") { Description = "A dataset folder or one WFDB record" }.AcceptExistingDatasetOnly();
        var record = new Option<string>("--record") { Description = "Exam id of the record to plot (ecg_id for PTB-XL, record name for WFDB)", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "File to write: .html for the interactive plot (Plotly, works offline), .svg for a static one on ECG paper (default: ecg-<record>.html)" };
        var annotate = new Option<bool>("--annotate") { Description = "Draw the detected R peaks and the median beat's P, QRS and T boundaries, with the intervals" };
        var from = new Option<double>("--from") { Description = "Start of the plotted window, in seconds from the start of the recording", DefaultValueFactory = _ => 0 };
        var seconds = new Option<double?>("--seconds") { Description = $"Length of the plotted window in seconds (default: the whole record up to {WholeRecordUpToSeconds:0} s, else {LongRecordWindowSeconds:0} s)" };
        var command = new Command("plot", "Write a standard 12-lead plot of one record: interactive HTML, or a static SVG") { path, record, output, annotate, from, seconds };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var dataset = parse.GetValue(path)!;
            var id = parse.GetValue(record)!;
            var (start, length) = (parse.GetValue(from), parse.GetValue(seconds));
            if (start < 0 || length is <= 0 || !double.IsFinite(start) || length is { } l && !double.IsFinite(l))
                throw new UsageException("--from must be 0 or more and --seconds more than 0");
            var (source, index) = OpenAtStoredRate(dataset, id);
            using var _ = source as IDisposable;
            var ecg = RecordBoundary.Read(source, index);
            foreach (var warning in ecg.Warnings) console.MarkupLineInterpolated($"[yellow]warning:[/] {source.FileOf(index)}: {warning}");
            if (source is PtbXlSource ptbXl)
                console.MarkupLineInterpolated($"ecg_id {id}: {ptbXl.RecordName(ptbXl.ExamAt(index))} at {ecg.SamplingRateHz:0.##} Hz");
            var recorded = ecg.RecordedSamples.GetOffsetAndLength(ecg.SampleCount).Length / ecg.SamplingRateHz;
            if (start >= recorded)
                throw new UsageException($"--from {start:0.###} s is past the end of record {id}, which lasts {recorded:0.###} s");
            if (length is null && recorded > WholeRecordUpToSeconds)
            {
                length = LongRecordWindowSeconds;
                console.MarkupLineInterpolated($"record {id} lasts {recorded:0.#} s; plotting {start:0.##}–{Math.Min(recorded, start + LongRecordWindowSeconds):0.##} s (choose with --from and --seconds)");
            }
            if (start > 0 || length < recorded) ecg = ecg.Window(start, length ?? recorded);
            var marks = parse.GetValue(annotate) ? Features.BeatMarks.Find(ecg) : null;
            if (marks is not null) console.MarkupLineInterpolated($"{marks.RPeaks.Count} R peaks; median beat: {marks.Summary()}");
            var target = parse.GetValue(output)?.FullName ?? Path.GetFullPath($"ecg-{id}.html");
            var page = target.EndsWith(".svg", StringComparison.OrdinalIgnoreCase) ? Reports.EcgSvg.Render(ecg, marks) : Reports.EcgPlot.Render(ecg, source.Describe(), marks);
            CliErrors.Writing(target, () => File.WriteAllText(target, page));
            Console.WriteLine(target);
            return CliErrors.Success;
        }));
        return command;
    }

    /// <summary>Records up to this long plot whole by default: a 10 s 12-lead exam, a one-minute strip.</summary>
    const double WholeRecordUpToSeconds = 60;

    /// <summary>What a longer record (a 30-minute Holter) shows by default: one page, as long as a standard exam.</summary>
    const double LongRecordWindowSeconds = 10;

    /// <summary>
    /// The source and index of one record. PTB-XL keeps each record at 500 Hz (records500, filename_hr) and at 100 Hz
    /// (records100, filename_lr), and a download may hold only one of them: 500 Hz is read where present, else 100 Hz.
    /// </summary>
    static (IEcgSource Source, int Index) OpenAtStoredRate(string dataset, string id)
    {
        var source = EcgSources.Open(dataset);
        var index = EcgSources.IndexOf(source, id, dataset);
        if (source is not PtbXlSource ptbXl) return (source, index);
        var exam = ptbXl.ExamAt(index);
        string Header(string file) => Path.Combine(ptbXl.Database.Directory, file + ".hea");
        if (File.Exists(Header(exam.FilenameHr)) || !File.Exists(Header(exam.FilenameLr))) return (source, index);
        var low = EcgSources.Open(dataset, ptbXlSamplingRateHz: 100);
        return (low, EcgSources.IndexOf(low, id, dataset));
    }

    static Command Synth()
    {
        var exams = new Option<int>("--exams") { Description = "Number of exams", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Generator seed", DefaultValueFactory = _ => 42 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write into", Required = true };
        var format = new Option<string>("--format") { Description = "code15 (HDF5 parts + exams.csv) or wfdb (one .hea/.dat per exam)", DefaultValueFactory = _ => "code15" };
        format.AcceptOnlyFromAmong("code15", "wfdb");
        var perPart = new Option<int>("--exams-per-part") { Description = "Exams per HDF5 part (code15)", DefaultValueFactory = _ => 20_000 };
        var force = new Option<bool>("--force") { Description = "Write into a folder that already holds files, replacing the dataset files there" };
        var command = new Command("synth", "Write synthetic exams in the CODE-15% layout or as WFDB records") { exams, seed, output, format, perPart, force };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var count = parse.GetValue(exams);
            if (count < 1 || parse.GetValue(perPart) < 1) throw new UsageException("--exams and --exams-per-part must be at least 1");
            var generator = new Data.Synthetic.SyntheticEcgGenerator(new Data.Synthetic.SyntheticEcgOptions { Exams = count, Seed = parse.GetValue(seed) });
            var directory = parse.GetValue(output)!.FullName;
            if (File.Exists(directory)) throw new UsageException($"--out {directory} is a file; give a folder to write the dataset into");
            var wfdb = parse.GetValue(format) == "wfdb";
            if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            {
                // Writing over a dataset replaces some of its files and leaves the others: a folder that no longer opens.
                if (!parse.GetValue(force))
                {
                    var present = Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(3);
                    throw new UsageException($"{directory} already holds files ({string.Join(", ", present)}, …): choose an empty or new folder, or pass --force to replace the dataset files in it");
                }
                // Replaced whole: the files of either layout synth writes, so no part of an earlier, larger dataset stays behind.
                CliErrors.Writing(directory, () =>
                {
                    foreach (var file in Directory.EnumerateFiles(directory).Where(f => Path.GetFileName(f) is "exams.csv" or "RECORDS"
                                 || Path.GetFileName(f).StartsWith("exams_part", StringComparison.Ordinal) && f.EndsWith(".hdf5", StringComparison.Ordinal)
                                 || f.EndsWith(".hea", StringComparison.Ordinal) || f.EndsWith(".dat", StringComparison.Ordinal)))
                        File.Delete(file);
                });
            }
            CliErrors.Writing(directory, () => console.Progress().Start(context =>
            {
                var task = context.AddTask($"Writing {count:N0} synthetic exams", maxValue: count);
                if (wfdb)
                {
                    Directory.CreateDirectory(directory);
                    for (var i = 0; i < count; i++) { Data.Wfdb.WfdbWriter.Write(generator.Read(i), directory); task.Increment(1); }
                    File.WriteAllLines(Path.Combine(directory, "RECORDS"), Enumerable.Range(0, count).Select(i => generator.Read(i).ExamId));
                }
                else
                {
                    Data.Code.CodeHdf5Writer.Write(generator, directory, parse.GetValue(perPart),
                        progress: new Progress<StageProgress>(p => task.Value = p.Done));
                    task.Value = count;
                }
            }));
            Console.WriteLine(directory);
            return CliErrors.Success;
        }));
        return command;
    }

    static Command Inspect()
    {
        var path = new Argument<string>("path") { Description = "A dataset folder (PTB-XL, PhysioNet Challenge, WFDB) or one WFDB record" }.AcceptExistingDatasetOnly();
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON (records, labels, sampling_rates_hz, ...)" };
        var command = new Command("inspect", "Detect a dataset's format and summarise its records, rates, leads, durations, patients and labels") { path, json };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var summary = DatasetInspector.Inspect(parse.GetValue(path)!);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(summary, RunFolder.Json));
                return CliErrors.Success;
            }
            var table = new Table().HideHeaders().AddColumns("", "");
            table.AddRow("format", summary.Format);
            table.AddRow("path", Markup.Escape(summary.Path));
            table.AddRow("records", summary.Records.ToString("N0", CultureInfo.InvariantCulture));
            table.AddRow("patients", summary.Patients.ToString("N0", CultureInfo.InvariantCulture));
            table.AddRow("sampling rates", string.Join(", ", summary.SamplingRatesHz.Select(p => $"{p.Key} Hz ({p.Value:N0})")));
            table.AddRow("leads", Markup.Escape(string.Join(" ", summary.Leads)));
            table.AddRow("duration", summary.MinDurationSeconds == summary.MaxDurationSeconds
                ? $"{summary.MinDurationSeconds:0.##} s" : $"{summary.MinDurationSeconds:0.##}–{summary.MaxDurationSeconds:0.##} s");
            console.Write(table);
            var labels = new Table().Title($"labels ({Markup.Escape(summary.Taxonomy)})").AddColumns("class", "records", "prevalence");
            foreach (var (name, count) in summary.Labels)
                labels.AddRow(Markup.Escape(name), count.ToString("N0", CultureInfo.InvariantCulture), (count / (double)summary.Records).ToString("P1", CultureInfo.InvariantCulture));
            console.Write(labels);
            foreach (var note in summary.Notes) console.MarkupLineInterpolated($"[grey]{note}[/]");
            return CliErrors.Success;
        }));
        return command;
    }
}
