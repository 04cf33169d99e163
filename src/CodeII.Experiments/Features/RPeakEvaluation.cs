using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Wfdb;

namespace CodeII.Experiments.Features;

/// <summary>One record's detections scored against its reference annotations.</summary>
public sealed record RecordBeatScore(string Record, double SamplingRateHz, int ReferenceBeats, BeatComparison Comparison, long[] Peaks)
{
    /// <summary>Signed mean of detection − annotation over matched beats, in ms.</summary>
    public double MeanOffsetMs => Comparison.MeanOffsetSamples / SamplingRateHz * 1000;
}

/// <summary>Records scored together; the pooled figures add up the beats of every record (AAMI EC57's gross statistics).</summary>
public sealed record BeatDetectionScore(IReadOnlyList<RecordBeatScore> Records)
{
    public int ReferenceBeats => Records.Sum(r => r.ReferenceBeats);
    public BeatComparison Pooled => new(
        Records.Sum(r => r.Comparison.TruePositives), Records.Sum(r => r.Comparison.FalseNegatives),
        Records.Sum(r => r.Comparison.FalsePositives), Records.Sum(r => r.Comparison.ExcludedDetections));

    /// <summary>Signed mean offset over every matched beat of every record, in ms.</summary>
    public double MeanOffsetMs
    {
        get
        {
            var matched = Records.Sum(r => r.Comparison.TruePositives);
            return matched == 0 ? double.NaN : Records.Sum(r => r.Comparison.OffsetSumSamples / r.SamplingRateHz * 1000) / matched;
        }
    }
}

/// <summary>Runs <see cref="RPeakDetector"/> on WFDB records and scores it against their beat annotations.</summary>
public static class RPeakEvaluation
{
    public const string DefaultAnnotator = "atr";

    /// <summary>The headers in <paramref name="folder"/> that have an annotation file (<c>record.annotator</c>) beside
    /// them, in name order; a folder with none is an error naming the folder.</summary>
    public static IReadOnlyList<string> AnnotatedRecords(string folder, string annotator = DefaultAnnotator)
    {
        if (!Directory.Exists(folder)) throw new EcgDataException(folder, "(folder)", "records", "no such folder");
        var headers = Directory.GetFiles(folder, "*.hea")
            .Where(h => File.Exists(AnnotationFile(h, annotator)))
            .Order(StringComparer.Ordinal).ToArray();
        if (headers.Length == 0)
            throw new EcgDataException(folder, "(folder)", "records", $"no WFDB record (.hea) with a .{annotator} annotation file beside it");
        return headers;
    }

    /// <summary>The annotation file of a record: its header's path with the annotator as extension.</summary>
    public static string AnnotationFile(string header, string annotator) => Path.ChangeExtension(header, annotator);

    /// <summary>Detects and scores one record against <paramref name="annotationFile"/>.</summary>
    public static RecordBeatScore Score(EcgRecord record, string annotationFile)
    {
        var peaks = new RPeakDetector().Detect(record.Signals, record.RecordedSamples, record.SamplingRateHz).Select(p => (long)p).ToArray();
        var reference = ReferenceBeats.FromAnnotations(WfdbAnnotationReader.Read(annotationFile), record.SampleCount);
        return new RecordBeatScore(record.ExamId, record.SamplingRateHz, reference.Beats.Count,
            BeatMatching.Compare(peaks, reference, record.SamplingRateHz), peaks);
    }

    /// <summary>Every annotated record of <paramref name="folder"/>, detected and scored in parallel.</summary>
    public static BeatDetectionScore ScoreFolder(string folder, string annotator = DefaultAnnotator, int maxThreads = 0,
        CancellationToken cancellation = default)
    {
        var headers = AnnotatedRecords(folder, annotator);
        var source = new WfdbFolderSource(headers);
        var scores = new RecordBeatScore[source.Count];
        try
        {
            Parallel.For(0, source.Count, new ParallelOptions
            {
                MaxDegreeOfParallelism = maxThreads > 0 ? maxThreads : Environment.ProcessorCount,
                CancellationToken = cancellation,
            }, i =>
            {
                var record = RecordBoundary.Read(source, i);
                RecordBoundary.Guard(source, i, "R peaks", () => scores[i] = Score(record, AnnotationFile(source.FileOf(i), annotator)));
            });
        }
        catch (AggregateException e)
        {
            // The first failing record is the one to name; the others are usually the same problem.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
        return new BeatDetectionScore(scores);
    }
}
