using System.Collections.Concurrent;
using CodeII.Experiments.Data;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Preprocessing;

namespace CodeII.Experiments.Models;

/// <summary>One record's score from one model for one label, and the decision at the model's validation threshold.</summary>
public sealed record Prediction(string ExamId, string Label, string Model, float Score, bool Decision);

/// <summary>
/// Scores every record of a source with a set of model bundles, streaming: records are read in chunks, each record is
/// decoded once per preprocessing and its features computed once per feature part, whatever number of bundles read
/// them; the network runs in batches of <see cref="NetworkPretraining.InferenceBatch"/> in record order, as in a run.
/// Records that fail to decode are returned with the reason, never dropped silently.
/// </summary>
public sealed class BatchPredictor(IReadOnlyList<ModelBundle> bundles, int maxThreads)
{
    /// <summary>Records per chunk: a multiple of the network's batch, so batches line up with a run's.</summary>
    public const int ChunkSize = 8 * NetworkPretraining.InferenceBatch;

    /// <summary>The name a bundle's predictions carry: its model, and its subset when the configuration was shared.</summary>
    public static string ModelName(BundleDescription d) => d.Subset is null ? d.Model : $"{d.Model}@{d.Subset}";

    public IReadOnlyList<SkippedRecord> Run(IEcgSource source, Action<IReadOnlyList<Prediction>> write, IProgress<StageProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var skipped = new List<SkippedRecord>();
        // Bundles read their inputs through their own preprocessing; those sharing one read each record once.
        var inputs = bundles.GroupBy(b => b.Description.Preprocessing.Describe()).Select(g => new InputGroup(source, g.ToArray())).ToArray();
        var networks = new Dictionary<string, ResNet1d>(StringComparer.Ordinal);
        foreach (var bundle in bundles)
            if (bundle.Description.Network is { } n && !networks.ContainsKey(n.Sha256)) networks[n.Sha256] = bundle.Network();

        for (var start = 0; start < source.Count; start += ChunkSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(ChunkSize, source.Count - start);
            var failed = new ConcurrentDictionary<int, string>();
            foreach (var input in inputs) input.Compute(start, count, maxThreads, failed, networks, cancellationToken);
            var rows = new List<Prediction>();
            var scores = inputs.SelectMany(input => input.Score(start, count, failed)).ToArray();
            for (var k = 0; k < count; k++)
            {
                if (failed.TryGetValue(k, out var reason))
                {
                    skipped.Add(new SkippedRecord(start + k, SafeExamId(source, start + k), reason));
                    continue;
                }
                var examId = source.ExamIdAt(start + k);
                foreach (var (bundle, values) in scores)
                    rows.Add(new Prediction(examId, bundle.Description.Label, ModelName(bundle.Description), values[k], values[k] >= bundle.Description.Threshold));
            }
            write(rows);
            progress?.Report(new StageProgress("predict", start + count, source.Count));
        }
        return skipped;
    }

    static string SafeExamId(IEcgSource source, int index)
    {
        try { return source.ExamIdAt(index); }
        catch (EcgDataException) { return $"#{index}"; }
    }

    /// <summary>The bundles that share a preprocessing, and the features of the current chunk they read.</summary>
    sealed class InputGroup
    {
        readonly IEcgSource _source;
        readonly ModelBundle[] _bundles;
        readonly IReadOnlyList<string> _recordParts;
        readonly Dictionary<string, float[][]> _parts = new(StringComparer.Ordinal);
        readonly Dictionary<string, (float[][] Embeddings, float[][] Outputs)> _network = new(StringComparer.Ordinal);

        public InputGroup(IEcgSource source, ModelBundle[] bundles)
        {
            _bundles = bundles;
            var preprocessing = bundles[0].Description.Preprocessing;
            _source = preprocessing.IsIdentity ? source : new PreprocessedSource(source, new EcgPreprocessor(preprocessing));
            _recordParts = [.. bundles.SelectMany(b => b.Description.FeatureParts).Select(p => p.Name).Where(p => p != LearnedFeatures.SetName).Distinct()];
        }

        public void Compute(int start, int count, int threads, ConcurrentDictionary<int, string> failed, IReadOnlyDictionary<string, ResNet1d> networks,
            CancellationToken cancellationToken)
        {
            var extractors = _recordParts.ToDictionary(p => p, FeatureSetCatalog.Create);
            foreach (var part in _recordParts) _parts[part] = new float[count][];
            // Every record is decoded once here, also when no bundle reads record features: a record that cannot be
            // read is found before the network's batches, which would otherwise fail whole.
            ParallelLoop.For(count, threads, cancellationToken, k =>
            {
                try
                {
                    var record = _source.Read(start + k);
                    foreach (var part in _recordParts)
                    {
                        var values = new float[extractors[part].FeatureNames.Count];
                        extractors[part].Extract(record, values);
                        _parts[part][k] = values;
                    }
                }
                catch (EcgDataException e)
                {
                    failed.TryAdd(k, e.Message);
                }
            });
            _network.Clear();
            foreach (var network in _bundles.Select(b => b.Description.Network).OfType<BundleNetwork>().DistinctBy(n => n.Sha256))
            {
                var readable = Enumerable.Range(0, count).Where(k => !failed.ContainsKey(k)).ToArray();
                var loader = NetworkPretraining.InputLoader(_source, network.Shape, network.InputRateHz, threads);
                float[][] embeddings = new float[count][], outputs = new float[count][];
                try
                {
                    var (e, o) = NetworkPretraining.Infer(networks[network.Sha256], loader, [.. readable.Select(k => start + k)], NetworkPretraining.InferenceBatch,
                        cancellation: cancellationToken);
                    var (width, classes) = (network.Shape.EmbeddingSize, network.Shape.Classes);
                    for (var r = 0; r < readable.Length; r++)
                    {
                        embeddings[readable[r]] = e.AsSpan(r * width, width).ToArray();
                        outputs[readable[r]] = o.AsSpan(r * classes, classes).ToArray();
                    }
                }
                catch (EcgDataException e)
                {
                    // The record decoded, but not into the network's input (e.g. too few leads): name it and go on.
                    foreach (var k in readable) failed.TryAdd(k, e.Message);
                }
                _network[network.Sha256] = (embeddings, outputs);
            }
        }

        public IEnumerable<(ModelBundle Bundle, float[] Scores)> Score(int start, int count, ConcurrentDictionary<int, string> failed)
        {
            var readable = Enumerable.Range(0, count).Where(k => !failed.ContainsKey(k)).ToArray();
            foreach (var bundle in _bundles)
            {
                var d = bundle.Description;
                float[] Row(int k) => d.NetworkOutput is not null ? _network[d.Network!.Sha256].Outputs[k]
                    : d.FeatureSet is null ? []
                    : [.. d.FeatureParts.SelectMany(p => p.Name == LearnedFeatures.SetName ? _network[d.Network!.Sha256].Embeddings[k] : _parts[p.Name][k])];
                var values = bundle.ScoreFeatures([.. readable.Select(Row)]);
                var scores = new float[count];
                for (var r = 0; r < readable.Length; r++) scores[readable[r]] = values[r];
                yield return (bundle, scores);
            }
        }
    }
}
