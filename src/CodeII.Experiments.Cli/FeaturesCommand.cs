using System.CommandLine;
using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Data.Wfdb;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Features;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary><c>codeii features …</c>: run the feature extractors on their own.</summary>
static class FeaturesCommand
{
    public static Command Create()
    {
        var command = new Command("features", "Run feature extraction steps on their own");
        command.Subcommands.Add(RPeaks());
        command.Subcommands.Add(Extract());
        return command;
    }

    static Command Extract()
    {
        var dataset = new Argument<string>("dataset") { Description = "A dataset folder (PTB-XL, CODE, Challenge, WFDB) or one WFDB record" }.AcceptExistingDatasetOnly();
        var output = new Option<FileInfo>("--out") { Description = "Output file: .arrow (Arrow IPC) or .csv", Required = true };
        var set = new Option<string>("--features") { Description = "Feature set: handcrafted or basic", DefaultValueFactory = _ => HandcraftedFeatureExtractor.SetName };
        set.AcceptOnlyFromAmong(HandcraftedFeatureExtractor.SetName, BasicFeatureExtractor.SetName);
        var threads = new Option<int>("--max-threads") { Description = "Threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var skip = new Option<bool>("--skip-bad-records") { Description = "Skip records that fail to decode and list them, instead of stopping" };
        var command = new Command("extract", "Extract features from every record of a dataset into an Arrow or CSV file") { dataset, output, set, threads, skip };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var maxThreads = parse.GetValue(threads);
            if (maxThreads < 1) throw new UsageException("--max-threads must be at least 1");
            var source = EcgSources.Open(parse.GetValue(dataset)!);
            using var _ = source as IDisposable;
            IEcgFeatureExtractor extractor = parse.GetValue(set) == BasicFeatureExtractor.SetName ? new BasicFeatureExtractor() : new HandcraftedFeatureExtractor();
            var target = parse.GetValue(output)!.FullName;
            FeatureTable table = null!;
            console.Progress().Start(context =>
            {
                var task = context.AddTask($"Extracting {extractor.Name} features from {source.Count:N0} records", maxValue: source.Count);
                table = FeatureTableBuilder.Extract(source, extractor, maxThreads,
                    new ProgressCallback(p => task.Value = p.Done), skipBadRecords: parse.GetValue(skip));
            });
            CliErrors.Writing(target, () => FeatureTableFiles.Write(table, target));
            console.MarkupLineInterpolated($"{table.RowCount:N0} records × {extractor.FeatureNames.Count} features; data {table.DataFingerprint}");
            foreach (var skipped in table.Skipped) console.MarkupLineInterpolated($"[yellow]skipped[/] {skipped.File}: record {skipped.ExamId}, {skipped.Field}: {skipped.Reason}");
            foreach (var warning in table.Warnings) console.MarkupLineInterpolated($"[yellow]warning[/] record {warning.ExamId}: {warning.Warning}");
            Console.WriteLine(target);
            return CliErrors.Success;
        }));
        return command;
    }

    static Command RPeaks()
    {
        var record = new Argument<string>("record") { Description = "A WFDB record (path without extension, or its .hea)" }.AcceptExistingDatasetOnly();
        var reference = new Option<FileInfo>("--reference") { Description = "Reference beat annotations (MIT format, e.g. 100.atr) to score against" }.AcceptExistingOnly();
        var json = new Option<bool>("--json") { Description = "Print JSON with peaks and, given a reference, sensitivity and ppv" };
        var command = new Command("rpeaks", "Detect R peaks in a record and optionally score them against reference annotations (150 ms window)") { record, reference, json };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var path = parse.GetValue(record)!;
            var source = EcgSources.Open(path);
            var ecg = RecordBoundary.Read(source, 0);
            long[] peaks = [];
            RecordBoundary.Guard(source, 0, "R peaks", () => peaks = [.. new RPeakDetector().Detect(ecg.Signals, ecg.RecordedSamples, ecg.SamplingRateHz).Select(p => (long)p)]);
            BeatComparison? comparison = null;
            var referenceBeats = 0;
            if (parse.GetValue(reference) is { } annotationFile)
            {
                var beats = WfdbAnnotationReader.Read(annotationFile.FullName).Where(a => a.IsBeat).Select(a => a.Sample).ToArray();
                referenceBeats = beats.Length;
                comparison = BeatMatching.Compare(peaks, beats, ecg.SamplingRateHz);
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    Record = ecg.ExamId,
                    SamplingRateHz = ecg.SamplingRateHz,
                    Leads = ecg.Leads,
                    Beats = peaks.Length,
                    ReferenceBeats = comparison is null ? (int?)null : referenceBeats,
                    TruePositives = comparison?.TruePositives,
                    FalseNegatives = comparison?.FalseNegatives,
                    FalsePositives = comparison?.FalsePositives,
                    Sensitivity = comparison?.Sensitivity,
                    Ppv = comparison?.PositivePredictivity,
                    Peaks = peaks,
                }, RunFolder.Json));
                return 0;
            }
            console.MarkupLineInterpolated($"{ecg.ExamId}: {peaks.Length} beats in {ecg.SampleCount / ecg.SamplingRateHz:0.#} s on leads {string.Join(", ", ecg.Leads)}");
            if (comparison is not null)
                console.MarkupLineInterpolated($"against {referenceBeats} reference beats: sensitivity {comparison.Sensitivity:P2}, positive predictivity {comparison.PositivePredictivity:P2} (TP {comparison.TruePositives}, FN {comparison.FalseNegatives}, FP {comparison.FalsePositives})");
            else
                Console.WriteLine(string.Join(" ", peaks));
            return CliErrors.Success;
        }));
        return command;
    }
}
