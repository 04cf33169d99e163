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
        command.Subcommands.Add(Delineate());
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
        var record = new Argument<string>("record") { Description = "A WFDB record (path without extension, or its .hea), or a folder: every record in it with an annotation file beside it is scored" }.AcceptExistingDatasetOnly();
        var reference = new Option<FileInfo>("--reference") { Description = "Reference beat annotations (MIT format, e.g. 100.atr) to score one record against" }.AcceptExistingOnly();
        var annotator = new Option<string>("--annotator") { Description = "Folder mode: the annotation files' extension", DefaultValueFactory = _ => RPeakEvaluation.DefaultAnnotator };
        var threads = new Option<int>("--max-threads") { Description = "Folder mode: records scored at once (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<bool>("--json") { Description = "Print JSON with peaks and, given a reference, sensitivity and ppv; in folder mode the pooled and per-record scores" };
        var command = new Command("rpeaks", "Detect R peaks in a record and optionally score them against reference annotations (150 ms window); given a folder, score every annotated record and pool the beats") { record, reference, annotator, threads, json };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var path = parse.GetValue(record)!;
            if (Directory.Exists(path))
            {
                if (parse.GetValue(reference) is not null) throw new UsageException("--reference scores one record; a folder's records are scored against their own annotation files (--annotator)");
                var maxThreads = parse.GetValue(threads);
                if (maxThreads < 1) throw new UsageException("--max-threads must be at least 1");
                var ext = parse.GetValue(annotator)!.TrimStart('.');
                if (ext.Length == 0) throw new UsageException("--annotator must name an extension, e.g. atr");
                var score = RPeakEvaluation.ScoreFolder(path, ext, maxThreads);
                PrintFolder(score, ext, parse.GetValue(json));
                return CliErrors.Success;
            }
            return OneRecord(path, parse.GetValue(reference), parse.GetValue(json));
        }));
        return command;
    }

    static Command Delineate()
    {
        var record = new Argument<string>("record") { Description = "A WFDB record (path without extension, or its .hea)" }.AcceptExistingDatasetOnly();
        var reference = new Option<FileInfo>("--reference") { Description = "Reference wave boundaries (WFDB annotations, e.g. a QT Database .q1c) to score against" }.AcceptExistingOnly();
        var peers = new Option<FileInfo[]>("--peer")
        {
            Description = "A peer's wave boundaries to score beside ours (default with --reference: <record>.pu0, <record>.pu1 if present, ecgpuwave's)",
            AllowMultipleArgumentsPerToken = true,
        }.AcceptExistingOnly();
        var json = new Option<bool>("--json") { Description = "Print JSON: per-beat boundaries (s) and, given a reference, the errors (ms) of ours and of each peer" };
        var command = new Command("delineate",
            "Delineate every beat (P onset/peak/offset, QRS onset/offset, T peak/offset; times in s from the record's start) and optionally score against reference boundaries (errors in ms, ours − reference)")
            { record, reference, peers, json };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var path = parse.GetValue(record)!;
            if (parse.GetValue(peers) is { Length: > 0 } && parse.GetValue(reference) is null)
                throw new UsageException("--peer is scored against a reference: give --reference too");
            var source = EcgSources.Open(path);
            var ecg = RecordBoundary.Read(source, 0);
            var fs = ecg.SamplingRateHz;
            IReadOnlyList<BeatFiducials> beats = [];
            RecordBoundary.Guard(source, 0, "delineation", () => beats = new PerBeatDelineator().Delineate(ecg));

            var scores = new List<(string Name, string File, DelineationScore Score)>();
            DelineationScore? ours = null;
            string? referenceFile = null;
            if (parse.GetValue(reference) is { } referencePath)
            {
                referenceFile = referencePath.FullName;
                var referenceBeats = WaveAnnotations.Beats(WfdbAnnotationReader.Read(referenceFile));
                ours = DelineationScoring.Score(beats, referenceBeats, fs);
                scores.Add(("codeii", path, ours));
                var peerFiles = parse.GetValue(peers) is { Length: > 0 } given
                    ? given.Select(f => f.FullName).ToArray()
                    : new[] { "pu0", "pu1" }.Select(annotator => RPeakEvaluation.AnnotationFile(source.FileOf(0), annotator)).Where(File.Exists).ToArray();
                foreach (var file in peerFiles)
                    scores.Add((PeerName(file, ecg.Leads), file, DelineationScoring.Score(WaveAnnotations.Beats(WfdbAnnotationReader.Read(file)), referenceBeats, fs)));
            }

            double? Seconds(double sample) => double.IsNaN(sample) ? null : Math.Round(sample / fs, 4);
            double? Finite(double value) => double.IsNaN(value) ? null : Math.Round(value, 2);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    Record = ecg.ExamId,
                    SamplingRateHz = fs,
                    Leads = ecg.Leads,
                    TimesIn = "s",
                    ErrorsIn = "ms",
                    Reference = referenceFile,
                    Scores = scores.Select(s => new
                    {
                        Delineation = s.Name,
                        s.File,
                        s.Score.ReferenceBeats,
                        s.Score.MatchedBeats,
                        Boundaries = s.Score.Boundaries.Select(b => new
                        {
                            Boundary = b.Boundary,
                            b.Reference,
                            b.Found,
                            FoundShare = Finite(b.FoundShare),
                            MeanErrorMs = Finite(b.MeanErrorMs),
                            SdErrorMs = Finite(b.SdErrorMs),
                            b.ToleranceMs,
                            WithinTolerance = b.WithinTolerance is { } w ? Math.Round(w, 4) : (double?)null,
                        }),
                    }),
                    Beats = beats.Select(b => new
                    {
                        R = Math.Round(b.RPeak / fs, 4),
                        POnset = Seconds(b.POnset), PPeak = Seconds(b.PPeak), POffset = Seconds(b.POffset),
                        QrsOnset = Seconds(b.QrsOnset), QrsOffset = Seconds(b.QrsOffset),
                        TPeak = Seconds(b.TPeak), TOffset = Seconds(b.TOffset),
                    }),
                }, RunFolder.Json));
                return CliErrors.Success;
            }
            console.MarkupLineInterpolated($"{ecg.ExamId}: {beats.Count} beats delineated on leads {string.Join(", ", ecg.Leads)} (times in s from the record's start; - where a wave is not found)");
            if (ours is null)
            {
                Console.WriteLine("r\tp_on\tp_peak\tp_off\tqrs_on\tqrs_off\tt_peak\tt_off");
                string F(double sample) => double.IsNaN(sample) ? "-" : (sample / fs).ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
                foreach (var b in beats)
                    Console.WriteLine(string.Join('\t', F(b.RPeak), F(b.POnset), F(b.PPeak), F(b.POffset), F(b.QrsOnset), F(b.QrsOffset), F(b.TPeak), F(b.TOffset)));
                return CliErrors.Success;
            }
            console.MarkupLineInterpolated($"against {referenceFile}: {ours.ReferenceBeats} reference beats, {ours.MatchedBeats} matched; errors in ms (ours − reference), mean ± SD, share within the CSE tolerance");
            var table = new Table().AddColumn("boundary").AddColumn("n").AddColumn("tolerance ms");
            foreach (var s in scores) table.AddColumn(Markup.Escape(s.Name));
            foreach (var boundary in Enum.GetValues<WaveBoundary>())
            {
                var first = ours[boundary];
                if (first.Reference == 0) continue;
                var cells = new List<string> { JsonConventions.SnakeCase(boundary), first.Reference.ToString(), first.ToleranceMs?.ToString("0.0") ?? "-" };
                foreach (var s in scores)
                {
                    var b = s.Score[boundary];
                    var within = b.WithinTolerance is { } w ? $", {w:P0} within" : "";
                    cells.Add(b.Found == 0 ? "not found" : $"{b.MeanErrorMs:0.0} ± {b.SdErrorMs:0.0} (found {b.FoundShare:P0}{within})");
                }
                table.AddRow(cells.Select(Markup.Escape).ToArray());
            }
            console.Write(table);
            return CliErrors.Success;
        }));
        return command;
    }

    /// <summary>ecgpuwave names its output by the signal it delineated (.pu0 for signal 0), so the lead can be said.</summary>
    static string PeerName(string file, IReadOnlyList<string> leads)
    {
        var extension = Path.GetExtension(file).TrimStart('.');
        return extension.Length == 3 && extension.StartsWith("pu") && int.TryParse(extension[2..], out var signal) && signal < leads.Count
            ? $"ecgpuwave {extension} ({leads[signal]})"
            : Path.GetFileName(file);
    }

    static int OneRecord(string path, FileInfo? annotationFile, bool json)
    {
        var console = AnsiConsole.Console;
        var source = EcgSources.Open(path);
        var ecg = RecordBoundary.Read(source, 0);
        long[] peaks = [];
        RecordBoundary.Guard(source, 0, "R peaks", () => peaks = [.. new RPeakDetector().Detect(ecg.Signals, ecg.RecordedSamples, ecg.SamplingRateHz).Select(p => (long)p)]);
        BeatComparison? comparison = null;
        var referenceBeats = 0;
        if (annotationFile is not null)
        {
            var beats = ReferenceBeats.FromAnnotations(WfdbAnnotationReader.Read(annotationFile.FullName), ecg.SampleCount);
            referenceBeats = beats.Beats.Count;
            comparison = BeatMatching.Compare(peaks, beats, ecg.SamplingRateHz);
        }
        if (json)
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
                ExcludedDetections = comparison?.ExcludedDetections,
                Sensitivity = comparison?.Sensitivity,
                Ppv = comparison?.PositivePredictivity,
                MeanOffsetMs = comparison is null ? (double?)null : comparison.MeanOffsetSamples / ecg.SamplingRateHz * 1000,
                Peaks = peaks,
            }, RunFolder.Json));
            return CliErrors.Success;
        }
        console.MarkupLineInterpolated($"{ecg.ExamId}: {peaks.Length} beats in {ecg.SampleCount / ecg.SamplingRateHz:0.#} s on leads {string.Join(", ", ecg.Leads)}");
        if (comparison is not null)
            console.MarkupLineInterpolated($"against {referenceBeats} reference beats: sensitivity {comparison.Sensitivity:P2}, positive predictivity {comparison.PositivePredictivity:P2} (TP {comparison.TruePositives}, FN {comparison.FalseNegatives}, FP {comparison.FalsePositives}; {comparison.ExcludedDetections} detections in flutter episodes not counted; mean offset {comparison.MeanOffsetSamples / ecg.SamplingRateHz * 1000:+0.0;-0.0;0.0} ms)");
        else
            Console.WriteLine(string.Join(" ", peaks));
        return CliErrors.Success;
    }

    static void PrintFolder(BeatDetectionScore score, string annotator, bool json)
    {
        var pooled = score.Pooled;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                Sensitivity = pooled.Sensitivity,
                Ppv = pooled.PositivePredictivity,
                ReferenceBeats = score.ReferenceBeats,
                TruePositives = pooled.TruePositives,
                FalseNegatives = pooled.FalseNegatives,
                FalsePositives = pooled.FalsePositives,
                ExcludedDetections = pooled.ExcludedDetections,
                MeanOffsetMs = score.MeanOffsetMs,
                Annotator = annotator,
                Records = score.Records.Select(r => new
                {
                    r.Record,
                    r.ReferenceBeats,
                    r.Comparison.TruePositives,
                    r.Comparison.FalseNegatives,
                    r.Comparison.FalsePositives,
                    r.Comparison.ExcludedDetections,
                    r.Comparison.Sensitivity,
                    Ppv = r.Comparison.PositivePredictivity,
                    r.MeanOffsetMs,
                    Beats = r.Peaks.Length,
                }),
            }, RunFolder.Json));
            return;
        }
        var table = new Table().AddColumns("record", "beats", "TP", "FN", "FP", "Se", "+P", "excluded", "offset ms");
        foreach (var c in table.Columns.Skip(1)) c.RightAligned();
        foreach (var r in score.Records)
            table.AddRow(Markup.Escape(r.Record), $"{r.ReferenceBeats}", $"{r.Comparison.TruePositives}", $"{r.Comparison.FalseNegatives}",
                $"{r.Comparison.FalsePositives}", $"{r.Comparison.Sensitivity:P2}", $"{r.Comparison.PositivePredictivity:P2}",
                $"{r.Comparison.ExcludedDetections}", $"{r.MeanOffsetMs:+0.0;-0.0;0.0}");
        table.AddRow("pooled", $"{score.ReferenceBeats}", $"{pooled.TruePositives}", $"{pooled.FalseNegatives}", $"{pooled.FalsePositives}",
            $"{pooled.Sensitivity:P2}", $"{pooled.PositivePredictivity:P2}", $"{pooled.ExcludedDetections}", $"{score.MeanOffsetMs:+0.0;-0.0;0.0}");
        AnsiConsole.Console.Write(table);
        AnsiConsole.Console.MarkupLineInterpolated($"pooled over {score.Records.Count} records: sensitivity {pooled.Sensitivity:P2}, positive predictivity {pooled.PositivePredictivity:P2}; {pooled.ExcludedDetections} detections inside annotated ventricular flutter not counted");
    }
}
