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

    readonly ConcurrentDictionary<string, (int Records, string Example)> _missingLeads = new(StringComparer.Ordinal);

    /// <summary>Records scored without some of the leads the models were trained on (they read as flat or unmeasured),
    /// by the missing leads: how many, and one exam id as an example.</summary>
    public IReadOnlyDictionary<string, (int Records, string Example)> MissingLeads => _missingLeads;

    /// <summary>The name a bundle's predictions carry: its model, and its subset when the configuration was shared.</summary>
    public static string ModelName(BundleDescription d) => d.Subset is null ? d.Model : $"{d.Model}@{d.Subset}";

    public IReadOnlyList<SkippedRecord> Run(IEcgSource source, Action<IReadOnlyList<Prediction>> write, IProgress<StageProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var skipped = new List<SkippedRecord>();
        // An ensemble scores what its members score: a member also asked for on its own is scored once, under its
        // folder; the others are scored for the ensemble only and give no rows of their own.
        var scoring = new Dictionary<string, ModelBundle>(StringComparer.Ordinal);
        foreach (var bundle in bundles.Where(b => !b.IsEnsemble)) scoring.TryAdd(Path.GetFullPath(bundle.Folder), bundle);
        foreach (var member in bundles.SelectMany(b => b.Members)) scoring.TryAdd(Path.GetFullPath(member.Folder), member);
        // Bundles read their inputs through their own preprocessing; those sharing one read each record once.
        var inputs = scoring.Values.GroupBy(b => b.Description.Preprocessing.Describe()).Select(g => new InputGroup(source, g.ToArray(), _missingLeads)).ToArray();
        var networks = new Dictionary<string, ResNet1d>(StringComparer.Ordinal);
        foreach (var bundle in scoring.Values)
            if (bundle.Description.Network is { } n && !networks.ContainsKey(n.Sha256)) networks[n.Sha256] = bundle.Network(maxThreads);

        for (var start = 0; start < source.Count; start += ChunkSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(ChunkSize, source.Count - start);
            // A record that cannot be read is not scored by any model; one the network cannot take is not scored by
            // the models that need the network, and the others still score it.
            var unreadable = new ConcurrentDictionary<int, string>();
            var failures = inputs.Select(input => input.Compute(start, count, maxThreads, unreadable, networks, cancellationToken)).ToArray();
            var scored = inputs.SelectMany(input => input.Score(count, unreadable)).ToDictionary(s => Path.GetFullPath(s.Bundle.Folder), s => s.Scores, StringComparer.Ordinal);
            var scores = bundles.Select(b => (Bundle: b, Scores: b.IsEnsemble ? Combined(b, scored, count) : scored[Path.GetFullPath(b.Folder)])).ToArray();
            var rows = new List<Prediction>();
            for (var k = 0; k < count; k++)
            {
                if (unreadable.TryGetValue(k, out var reason))
                {
                    skipped.Add(new SkippedRecord(start + k, SafeExamId(source, start + k), reason));
                    continue;
                }
                var examId = source.ExamIdAt(start + k);
                foreach (var (bundle, values) in scores)
                    if (values[k] is { } score)
                        rows.Add(new Prediction(examId, bundle.Description.Label, ModelName(bundle.Description), score, score >= bundle.Description.Threshold));
                foreach (var failure in failures.SelectMany(f => f).Where(f => f.Index == k))
                {
                    // The models asked for that go without a score: those that need what failed, and the ensembles of them.
                    var models = bundles.Where(b => b.IsEnsemble ? b.Members.Any(m => failure.Models.Contains(ModelName(m.Description))) : failure.Models.Contains(ModelName(b.Description)))
                        .Select(b => ModelName(b.Description)).Distinct();
                    skipped.Add(new SkippedRecord(start + k, examId, $"{failure.Reason} (not scored by {string.Join(", ", models)})"));
                }
            }
            write(rows);
            progress?.Report(new StageProgress("predict", start + count, source.Count));
        }
        return skipped;
    }

    /// <summary>An ensemble's scores of the chunk from its members'; null where a member has none.</summary>
    static float?[] Combined(ModelBundle ensemble, IReadOnlyDictionary<string, float?[]> scored, int count)
    {
        var members = ensemble.Members.Select(m => scored[Path.GetFullPath(m.Folder)]).ToArray();
        var complete = Enumerable.Range(0, count).Where(k => members.All(m => m[k] is not null)).ToArray();
        var values = ensemble.CombineMembers([.. members.Select(m => complete.Select(k => m[k]!.Value).ToArray())]);
        var scores = new float?[count];
        for (var r = 0; r < complete.Length; r++) scores[complete[r]] = values[r];
        return scores;
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
        readonly Dictionary<string, (float[]?[] Embeddings, float[]?[] Outputs)> _network = new(StringComparer.Ordinal);

        readonly ConcurrentDictionary<string, (int Records, string Example)> _missingLeads;
        readonly IReadOnlyList<string> _expectedLeads;

        public InputGroup(IEcgSource source, ModelBundle[] bundles, ConcurrentDictionary<string, (int Records, string Example)> missingLeads)
        {
            _bundles = bundles;
            _missingLeads = missingLeads;
            var preprocessing = bundles[0].Description.Preprocessing;
            _expectedLeads = preprocessing.Leads ?? StandardLeads.Twelve;
            _source = preprocessing.IsIdentity ? source : new PreprocessedSource(source, new EcgPreprocessor(preprocessing));
            _recordParts = [.. bundles.SelectMany(b => b.Description.FeatureParts).Select(p => p.Name).Where(p => p != LearnedFeatures.SetName).Distinct()];
        }

        /// <summary>Decodes the chunk's records and computes every feature part and network output its bundles read;
        /// returns the records the network could not take, and which models that leaves without a score.</summary>
        public IReadOnlyList<(int Index, string Reason, IReadOnlyList<string> Models)> Compute(int start, int count, int threads,
            ConcurrentDictionary<int, string> unreadable, IReadOnlyDictionary<string, ResNet1d> networks, CancellationToken cancellationToken)
        {
            var extractors = _recordParts.ToDictionary(p => p, FeatureSetCatalog.Create);
            foreach (var part in _recordParts) _parts[part] = new float[count][];
            // Every record is decoded once here, also when no bundle reads record features: a record that cannot be
            // read is found before the network's batches, which would otherwise fail whole.
            ParallelLoop.For(count, threads, cancellationToken, k =>
            {
                try
                {
                    var record = RecordBoundary.Read(_source, start + k);
                    var missing = _expectedLeads.Where(l => !record.Leads.Contains(l, StringComparer.OrdinalIgnoreCase)).ToArray();
                    if (missing.Length > 0)
                        _missingLeads.AddOrUpdate(string.Join(", ", missing), _ => (1, record.ExamId), (_, seen) => (seen.Records + 1, seen.Example));
                    foreach (var part in _recordParts)
                    {
                        var values = new float[extractors[part].FeatureNames.Count];
                        RecordBoundary.Guard(_source, start + k, $"{part} features", () => extractors[part].Extract(record, values));
                        _parts[part][k] = values;
                    }
                }
                catch (EcgDataException e)
                {
                    unreadable.TryAdd(k, e.Message);
                }
            });
            _network.Clear();
            var failures = new List<(int, string, IReadOnlyList<string>)>();
            foreach (var network in _bundles.Select(b => b.Description.Network).OfType<BundleNetwork>().DistinctBy(n => n.Sha256))
            {
                var readable = Enumerable.Range(0, count).Where(k => !unreadable.ContainsKey(k)).ToArray();
                var loader = NetworkPretraining.InputLoader(_source, network.Shape, network.InputRateHz, threads, network.Input);
                float[]?[] embeddings = new float[count][], outputs = new float[count][];
                var (width, classes) = (network.Shape.EmbeddingSize, network.Shape.Classes);
                void Infer(int[] ks)
                {
                    var (e, o) = NetworkPretraining.Infer(networks[network.Sha256], loader, [.. ks.Select(k => start + k)], NetworkPretraining.InferenceBatch,
                        cancellation: cancellationToken);
                    for (var r = 0; r < ks.Length; r++)
                    {
                        embeddings[ks[r]] = e.AsSpan(r * width, width).ToArray();
                        outputs[ks[r]] = o.AsSpan(r * classes, classes).ToArray();
                    }
                }
                try
                {
                    Infer(readable);
                }
                catch (EcgDataException)
                {
                    // A record decoded, but not into the network's input (a rate or lead set it cannot take): the
                    // records are tried one by one, so only those the network cannot take go without its scores.
                    var models = _bundles.Where(b => b.Description.Network?.Sha256 == network.Sha256).Select(b => ModelName(b.Description)).ToArray();
                    foreach (var k in readable)
                    {
                        try { Infer([k]); }
                        catch (EcgDataException e) { failures.Add((k, e.Message, models)); }
                    }
                }
                _network[network.Sha256] = (embeddings, outputs);
            }
            return failures;
        }

        /// <summary>Each bundle's score per record of the chunk; null where it could not score the record.</summary>
        public IEnumerable<(ModelBundle Bundle, float?[] Scores)> Score(int count, ConcurrentDictionary<int, string> unreadable)
        {
            foreach (var bundle in _bundles)
            {
                var d = bundle.Description;
                float[]? Row(int k) => d.ReadsNetworkOutputs ? _network[d.Network!.Sha256].Outputs[k]
                    : d.FeatureSet is null ? []
                    : d.FeatureParts.Any(p => p.Name == LearnedFeatures.SetName) && _network[d.Network!.Sha256].Embeddings[k] is null ? null
                    : [.. d.FeatureParts.SelectMany(p => p.Name == LearnedFeatures.SetName ? _network[d.Network!.Sha256].Embeddings[k]! : _parts[p.Name][k])];
                var rows = Enumerable.Range(0, count).Select(k => unreadable.ContainsKey(k) ? null : Row(k)).ToArray();
                var scorable = Enumerable.Range(0, count).Where(k => rows[k] is not null).ToArray();
                var values = bundle.ScoreFeatures([.. scorable.Select(k => rows[k]!)]);
                var scores = new float?[count];
                for (var r = 0; r < scorable.Length; r++) scores[scorable[r]] = values[r];
                yield return (bundle, scores);
            }
        }
    }
}
