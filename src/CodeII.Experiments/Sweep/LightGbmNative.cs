using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Sweep;

/// <summary>The options of one LightGBM fit, as LightGBM's own parameters (null: LightGBM's default).</summary>
public sealed record LightGbmOptions
{
    public int Iterations { get; init; } = 100;
    public int Leaves { get; init; } = 31;
    public double LearningRate { get; init; } = 0.1;
    public int MinExamplesPerLeaf { get; init; } = 20;
    public double? FeatureFraction { get; init; }
    public double? L2 { get; init; }
    /// <summary>Gradient-based one-side sampling: the share of rows with the largest gradients kept, and of the rest
    /// sampled; null for plain gradient boosting.</summary>
    public (double TopRate, double OtherRate)? Goss { get; init; }
    public int Seed { get; init; }
    public int Threads { get; init; } = 1;
    /// <summary>Boosting stops after this many rounds without a lower validation log loss; 0 turns it off.</summary>
    public int EarlyStoppingRounds { get; init; }
    /// <summary>
    /// Histogram bins per feature. 63, not LightGBM's 255: on the sweep's training sets (thousands of rows), a tree's
    /// time goes mostly to work per bin (building, subtracting and scanning each leaf's histograms of features ×
    /// bins), not per row, and 63 bins take a third to two-fifths of the time of a fit of 30 leaves or more. Over 18
    /// label × seed cells of <c>codeii bench sweep</c> the tuner reached Optuna's best in about half the time, with the
    /// chosen models' test AUROC unchanged within the seeds' spread; 15 bins lost accuracy on 1dAVb, whose signal is a
    /// threshold on one interval (docs/benchmarks.md, "Why run E missed on LBBB", and runs F and G).
    /// </summary>
    public int MaxBin { get; init; } = DefaultMaxBin;

    public const int DefaultMaxBin = 63;

    internal string BoosterParameters()
    {
        var p = new List<string>
        {
            "objective=binary", "metric=binary_logloss", "verbosity=-1", "deterministic=true", "force_row_wise=true",
            $"num_leaves={Leaves}", $"learning_rate={Number(LearningRate)}", $"min_data_in_leaf={MinExamplesPerLeaf}",
            $"seed={Seed}", $"num_threads={Threads}",
        };
        if (FeatureFraction is { } f) p.Add($"feature_fraction={Number(f)}");
        if (L2 is { } l2) p.Add($"lambda_l2={Number(l2)}");
        if (Goss is { } goss) p.AddRange(["data_sample_strategy=goss", $"top_rate={Number(goss.TopRate)}", $"other_rate={Number(goss.OtherRate)}"]);
        return string.Join(' ', p);
    }

    static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// LightGBM trained through its C API (the library ML.NET's LightGBM trainer ships), as an ML.NET estimator that
/// reads a "Features" vector and a boolean "Label" and gives a "Probability" column. Why not ML.NET's trainer: it
/// rebuilds LightGBM's binned dataset on every fit, which is 90 % of a small fit's time (docs/benchmarks.md), and
/// its boosting loop cannot be cancelled (dotnet/machinelearning #6465). Here the binned dataset is built once per
/// data view and reused by every later fit on that view (a sweep trains hundreds of configurations on one view), and
/// boosting checks for cancellation after every tree.
/// </summary>
public sealed class LightGbmBinaryEstimator(MLContext ml, LightGbmOptions options, IDataView? validation = null,
    CancellationToken cancellationToken = default) : IEstimator<ITransformer>
{
    public ITransformer Fit(IDataView input) => FitModel(input).Transformer;

    public LightGbmBinaryModel FitModel(IDataView input)
    {
        var train = PreparedMatrix.Of(input);
        lock (train.FitLock)
        {
            var trainSet = train.TrainingDataset(options.Threads, options.MaxBin);
            var booster = LightGbmBooster.Create(trainSet, options.BoosterParameters());
            // Validation rows cost a score update every round, so they are watched only to stop early.
            var validationSet = validation is null || options.EarlyStoppingRounds <= 0 ? null : PreparedMatrix.Of(validation).ValidationDataset(train, options.Threads, options.MaxBin);
            if (validationSet is not null) booster.AddValidation(validationSet);
            var best = double.PositiveInfinity;
            var bestIterations = 0;
            for (var iteration = 1; iteration <= options.Iterations; iteration++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (booster.UpdateOneIteration()) break; // no split improves any more
                if (validationSet is null) continue;
                var loss = booster.ValidationLoss();
                if (loss < best) { best = loss; bestIterations = iteration; }
                else if (iteration - bestIterations >= options.EarlyStoppingRounds) break;
            }
            var grown = booster.CurrentIteration();
            var used = validationSet is not null && bestIterations > 0 ? bestIterations : grown;
            return new LightGbmBinaryModel(ml, booster, [trainSet, validationSet], train.Columns, grown, used);
        }
    }

    // A schema shape knows a vector's kind, not its length: any fixed length describes the same output.
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => LightGbmBinaryModel.Mapping(ml, null, 1).GetOutputSchema(inputSchema);
}

/// <summary>A trained booster: batch scoring for the sweep, and an ML.NET transformer for pipelines.</summary>
public sealed class LightGbmBinaryModel : IDisposable
{
    readonly LightGbmBooster _booster;
    // The booster was built on these datasets and keeps pointers to them: they must not be freed before it.
    readonly LightGbmDataset?[] _datasets;
    readonly int _columns;
    readonly Lazy<ITransformer> _transformer;

    internal LightGbmBinaryModel(MLContext ml, LightGbmBooster booster, LightGbmDataset?[] datasets, int columns, int treesGrown, int treesUsed)
    {
        Columns = columns;
        _booster = booster;
        _datasets = datasets;
        _columns = columns;
        TreesGrown = treesGrown;
        TreesUsed = treesUsed;
        // Built on first use: the sweep scores in batches and never needs it.
        _transformer = new(() => Mapping(ml, this, columns).Fit(ml.Data.LoadFromEnumerable(Array.Empty<FeatureRow>(), FeatureSchema(columns))));
    }

    /// <summary>Trees boosted, including those after the best validation round (what the fit cost).</summary>
    public int TreesGrown { get; }
    /// <summary>Trees the predictions use: up to the best validation round when stopping early.</summary>
    public int TreesUsed { get; }
    public ITransformer Transformer => _transformer.Value;
    /// <summary>The number of features each row must have.</summary>
    public int Columns { get; }

    /// <summary>LightGBM's own text format, holding the trees the predictions use; <see cref="Load"/> reads it back,
    /// and LightGBM's Python and R packages read it too (thresholds and leaf values are written at full precision).</summary>
    public string ToModelString()
    {
        var text = _booster.SaveToString(TreesUsed);
        GC.KeepAlive(_datasets);
        return text;
    }

    /// <summary>A booster from <see cref="ToModelString"/>; it predicts exactly as the one saved.</summary>
    public static LightGbmBinaryModel Load(MLContext ml, string modelString, int columns)
    {
        var booster = LightGbmBooster.FromString(modelString, out var trees);
        return new LightGbmBinaryModel(ml, booster, [], columns, trees, trees);
    }

    /// <summary>Frees the native booster now rather than when the garbage collector gets to it (the datasets it was
    /// trained on may serve other fits, so they stay with their views).</summary>
    public void Dispose() => _booster.Dispose();

    /// <summary>
    /// Frees the boosters, then the binned datasets they were trained and validated on, for models whose sweep is
    /// over (no fit will use those datasets again) and which are saved: a sweep's selected models. The datasets
    /// hold each stream's training rows in native memory, which the collector would keep until it next collected
    /// the oldest generation.
    /// </summary>
    public static void DisposeWithTrainingData(IReadOnlyList<LightGbmBinaryModel> models)
    {
        // Every booster before any dataset: a booster keeps pointers to the datasets it was built on.
        foreach (var model in models) model.Dispose();
        foreach (var dataset in models.SelectMany(m => m._datasets)) dataset?.Dispose();
    }

    /// <summary>The probability of the positive class for each row.</summary>
    public float[] Predict(IReadOnlyList<float[]> rows)
    {
        var probabilities = PredictAs(rows, LightGbmApi.PredictNormal, 1);
        return [.. probabilities.Select(v => (float)v)];
    }

    /// <summary>Each feature's total gain over the trees the predictions use (LightGBM's importance type 1): how much
    /// the splits on it lowered the training loss, summed.</summary>
    public double[] GainImportance() => Importance(LightGbmApi.ImportanceGain);

    /// <summary>How many splits of the trees the predictions use test each feature (importance type 0). A feature no
    /// split tests cannot change any prediction.</summary>
    public double[] SplitCounts() => Importance(LightGbmApi.ImportanceSplit);

    double[] Importance(int importanceType)
    {
        RequireTrainedWidth();
        var importance = _booster.FeatureImportance(TreesUsed, importanceType, _columns);
        GC.KeepAlive(_datasets);
        return importance;
    }

    /// <summary>The raw margin (log-odds) of each row, before the sigmoid that gives <see cref="Predict"/>.</summary>
    public double[] RawScores(IReadOnlyList<float[]> rows) => PredictAs(rows, LightGbmApi.PredictRawScore, 1);

    /// <summary>
    /// TreeSHAP contributions (Lundberg et al. 2020, "From local explanations to global understanding with explainable
    /// AI for trees"), as LightGBM computes them: for each row, <see cref="Columns"/> + 1 values, one per feature in
    /// log-odds and last the expected value over the training data, which together sum to the row's
    /// <see cref="RawScores"/>. Row-major, one row after another.
    /// </summary>
    public double[] Contributions(IReadOnlyList<float[]> rows)
    {
        RequireTrainedWidth();
        return PredictAs(rows, LightGbmApi.PredictContributions, _columns + 1);
    }

    /// <summary>Importances and contributions have a value per feature the booster was trained on, and LightGBM writes
    /// them into a buffer of our size: a booster of another width would overrun it.</summary>
    void RequireTrainedWidth()
    {
        var trained = _booster.FeatureCount();
        if (trained != _columns) throw new InvalidOperationException($"the booster was trained on {trained} features, not {_columns}");
    }

    /// <summary>
    /// The rows are copied into one row-major matrix for LightGBM, in a buffer from the shared pool: scoring is called
    /// for every trial and, by feature importance, for every shuffled column, and a new matrix each time (tens of
    /// megabytes, on the large-object heap) piled up as garbage by the gigabyte between collections of the oldest
    /// generation. LightGBM reads the first rows × columns values of the longer pooled buffer.
    /// </summary>
    double[] PredictAs(IReadOnlyList<float[]> rows, int predictType, int valuesPerRow)
    {
        var matrix = System.Buffers.ArrayPool<float>.Shared.Rent(Math.Max(1, rows.Count * _columns));
        try
        {
            for (var r = 0; r < rows.Count; r++)
            {
                var row = matrix.AsSpan(r * _columns, _columns);
                rows[r].AsSpan().CopyTo(row);
                // A pooled buffer holds old values: a short row's missing features stay zero, as in a new array.
                row[rows[r].Length..].Clear();
            }
            var values = _booster.Predict(matrix, rows.Count, _columns, TreesUsed, predictType, valuesPerRow);
            GC.KeepAlive(_datasets);
            return values;
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(matrix);
        }
    }

    internal sealed class FeatureRow { public float[] Features { get; set; } = []; }
    internal sealed class ScoreRow
    {
        public float Score { get; set; }
        public float Probability { get; set; }
        public bool PredictedLabel { get; set; }
    }

    static SchemaDefinition FeatureSchema(int columns)
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        if (columns > 0) schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, columns);
        return schema;
    }

    internal static IEstimator<ITransformer> Mapping(MLContext ml, LightGbmBinaryModel? model, int columns) =>
        ml.Transforms.CustomMapping<FeatureRow, ScoreRow>((row, score) =>
        {
            var p = model is null ? 0.5f : model.Predict([row.Features])[0];
            score.Probability = p;
            score.Score = (float)Math.Log(p / (1 - p));
            score.PredictedLabel = p >= 0.5f;
        }, contractName: null, inputSchemaDefinition: FeatureSchema(columns));
}

/// <summary>A data view's features and labels as LightGBM takes them, with its binned datasets once built. Kept per
/// view object (and dropped with it), so every fit on the same view shares one binned dataset.</summary>
sealed class PreparedMatrix
{
    static readonly ConditionalWeakTable<IDataView, PreparedMatrix> Prepared = new();

    public required float[] Matrix { get; init; }
    public required float[] Labels { get; init; }
    public required int Rows { get; init; }
    public required int Columns { get; init; }
    /// <summary>Held while a fit trains on this matrix; fits that only validate on it do not need it.</summary>
    public Lock FitLock { get; } = new();
    readonly Lock _validationLock = new();
    // One binned dataset per bin count (fits normally share one). A validation dataset is binned like its training
    // dataset, so those of the last training matrix validated against are kept, per bin count.
    readonly Dictionary<int, LightGbmDataset> _training = [];
    PreparedMatrix? _validationReference;
    readonly Dictionary<int, LightGbmDataset> _validation = [];

    // Pre-filtering of features is off because it depends on min_data_in_leaf, which the sweep tunes: one dataset
    // per bin count serves every configuration.
    static string DatasetParameters(int maxBin, int threads) => $"max_bin={maxBin} min_data_in_bin=3 feature_pre_filter=false verbosity=-1 num_threads={threads}";

    public static PreparedMatrix Of(IDataView view) => Prepared.GetValue(view, Read);

    static PreparedMatrix Read(IDataView view)
    {
        var features = view.GetColumn<float[]>("Features").ToArray();
        var labels = view.GetColumn<bool>("Label").Select(l => l ? 1f : 0f).ToArray();
        var columns = features.Length == 0 ? 0 : features[0].Length;
        var matrix = new float[features.Length * columns];
        for (var r = 0; r < features.Length; r++) features[r].AsSpan().CopyTo(matrix.AsSpan(r * columns, columns));
        return new PreparedMatrix { Matrix = matrix, Labels = labels, Rows = features.Length, Columns = columns };
    }

    /// <summary>Call while holding <see cref="FitLock"/>.</summary>
    public LightGbmDataset TrainingDataset(int threads, int maxBin)
    {
        if (!_training.TryGetValue(maxBin, out var dataset))
            _training[maxBin] = dataset = LightGbmDataset.Create(this, DatasetParameters(maxBin, threads), null);
        return dataset;
    }

    public LightGbmDataset ValidationDataset(PreparedMatrix training, int threads, int maxBin)
    {
        lock (_validationLock)
        {
            if (!ReferenceEquals(_validationReference, training))
            {
                _validation.Clear();
                _validationReference = training;
            }
            if (!_validation.TryGetValue(maxBin, out var dataset))
                _validation[maxBin] = dataset = LightGbmDataset.Create(this, DatasetParameters(maxBin, threads), training.TrainingDataset(threads, maxBin));
            return dataset;
        }
    }
}

/// <summary>A LightGBM dataset handle, freed with the object.</summary>
sealed class LightGbmDataset : SafeHandle
{
    LightGbmDataset() : base(IntPtr.Zero, ownsHandle: true) { }
    public override bool IsInvalid => handle == IntPtr.Zero;
    protected override bool ReleaseHandle() => LightGbmApi.LGBM_DatasetFree(handle) == 0;

    public static LightGbmDataset Create(PreparedMatrix data, string parameters, LightGbmDataset? reference)
    {
        if (data.Rows == 0) throw new ArgumentException("LightGBM cannot train or validate on zero rows");
        LightGbmApi.Check(LightGbmApi.LGBM_DatasetCreateFromMat(data.Matrix, LightGbmApi.Float32, data.Rows, data.Columns, 1, parameters,
            reference?.DangerousGetHandle() ?? IntPtr.Zero, out var dataset));
        GC.KeepAlive(reference);
        LightGbmApi.Check(LightGbmApi.LGBM_DatasetSetField(dataset, "label", data.Labels, data.Rows, LightGbmApi.Float32));
        return dataset;
    }
}

/// <summary>A LightGBM booster handle, freed with the object.</summary>
sealed class LightGbmBooster : SafeHandle
{
    readonly Lock _predicting = new();

    LightGbmBooster() : base(IntPtr.Zero, ownsHandle: true) { }
    public override bool IsInvalid => handle == IntPtr.Zero;
    protected override bool ReleaseHandle() => LightGbmApi.LGBM_BoosterFree(handle) == 0;

    public static LightGbmBooster Create(LightGbmDataset training, string parameters)
    {
        LightGbmApi.Check(LightGbmApi.LGBM_BoosterCreate(training, parameters, out var booster));
        return booster;
    }

    public void AddValidation(LightGbmDataset validation) => LightGbmApi.Check(LightGbmApi.LGBM_BoosterAddValidData(this, validation));

    /// <summary>Boosts one more tree; true when none could be grown (training has converged).</summary>
    public bool UpdateOneIteration()
    {
        LightGbmApi.Check(LightGbmApi.LGBM_BoosterUpdateOneIter(this, out var finished));
        return finished != 0;
    }

    /// <summary>The first metric (binary log loss) on the first validation dataset.</summary>
    public double ValidationLoss()
    {
        var results = new double[8];
        LightGbmApi.Check(LightGbmApi.LGBM_BoosterGetEval(this, 1, out var length, results));
        return length > 0 ? results[0] : double.NaN;
    }

    public int CurrentIteration()
    {
        LightGbmApi.Check(LightGbmApi.LGBM_BoosterGetCurrentIteration(this, out var iteration));
        return iteration;
    }

    public string SaveToString(int iterations)
    {
        lock (_predicting)
        {
            LightGbmApi.Check(LightGbmApi.LGBM_BoosterSaveModelToString(this, 0, iterations, 0, 0, out var length, null));
            var buffer = new byte[length];
            LightGbmApi.Check(LightGbmApi.LGBM_BoosterSaveModelToString(this, 0, iterations, 0, length, out length, buffer));
            // The length counts the terminating NUL.
            return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)Math.Max(0, length - 1));
        }
    }

    public static LightGbmBooster FromString(string modelString, out int iterations)
    {
        LightGbmApi.Check(LightGbmApi.LGBM_BoosterLoadModelFromString(modelString, out iterations, out var booster));
        return booster;
    }

    /// <summary>A row-major matrix's predictions of one type, <paramref name="valuesPerRow"/> values per row.</summary>
    public double[] Predict(float[] matrix, int rows, int columns, int iterations, int predictType, int valuesPerRow)
    {
        var results = new double[(long)rows * valuesPerRow];
        long length;
        lock (_predicting)
            LightGbmApi.Check(LightGbmApi.LGBM_BoosterPredictForMat(this, matrix, LightGbmApi.Float32, rows, columns, 1, predictType, 0, iterations,
                "num_threads=1", out length, results));
        if (length != results.Length) throw new InvalidOperationException($"LightGBM gave {length} values for {rows} rows; expected {results.Length}");
        return results;
    }

    public int FeatureCount()
    {
        LightGbmApi.Check(LightGbmApi.LGBM_BoosterGetNumFeature(this, out var features));
        return features;
    }

    /// <summary>One value per feature, of the given importance type, over the first <paramref name="iterations"/> trees.</summary>
    public double[] FeatureImportance(int iterations, int importanceType, int columns)
    {
        var results = new double[columns];
        lock (_predicting)
            LightGbmApi.Check(LightGbmApi.LGBM_BoosterFeatureImportance(this, iterations, importanceType, results));
        return results;
    }
}

static class LightGbmApi
{
    const string Library = "lib_lightgbm";
    public const int Float32 = 0;
    // Prediction types and importance types, as c_api.h numbers them (C_API_PREDICT_*, C_API_FEATURE_IMPORTANCE_*).
    public const int PredictNormal = 0;
    public const int PredictRawScore = 1;
    public const int PredictContributions = 3;
    public const int ImportanceSplit = 0;
    public const int ImportanceGain = 1;

    public static void Check(int result)
    {
        if (result == 0) return;
        var message = Marshal.PtrToStringUTF8(LGBM_GetLastError()) ?? "unknown error";
        throw new InvalidOperationException($"LightGBM: {message}");
    }

    [DllImport(Library)] public static extern IntPtr LGBM_GetLastError();
    [DllImport(Library)] public static extern int LGBM_DatasetCreateFromMat(float[] data, int dataType, int rows, int columns, int rowMajor,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string parameters, IntPtr reference, out LightGbmDataset dataset);
    [DllImport(Library)] public static extern int LGBM_DatasetSetField(LightGbmDataset dataset, [MarshalAs(UnmanagedType.LPUTF8Str)] string field,
        float[] data, int count, int dataType);
    [DllImport(Library)] public static extern int LGBM_DatasetFree(IntPtr dataset);
    [DllImport(Library)] public static extern int LGBM_BoosterCreate(LightGbmDataset training, [MarshalAs(UnmanagedType.LPUTF8Str)] string parameters,
        out LightGbmBooster booster);
    [DllImport(Library)] public static extern int LGBM_BoosterAddValidData(LightGbmBooster booster, LightGbmDataset validation);
    [DllImport(Library)] public static extern int LGBM_BoosterUpdateOneIter(LightGbmBooster booster, out int finished);
    [DllImport(Library)] public static extern int LGBM_BoosterGetEval(LightGbmBooster booster, int dataIndex, out int length, [Out] double[] results);
    [DllImport(Library)] public static extern int LGBM_BoosterGetCurrentIteration(LightGbmBooster booster, out int iteration);
    [DllImport(Library)] public static extern int LGBM_BoosterPredictForMat(LightGbmBooster booster, float[] data, int dataType, int rows, int columns,
        int rowMajor, int predictType, int startIteration, int iterations, [MarshalAs(UnmanagedType.LPUTF8Str)] string parameters,
        out long length, [Out] double[] results);
    [DllImport(Library)] public static extern int LGBM_BoosterGetNumFeature(LightGbmBooster booster, out int features);
    [DllImport(Library)] public static extern int LGBM_BoosterFeatureImportance(LightGbmBooster booster, int iterations, int importanceType,
        [Out] double[] results);
    [DllImport(Library)] public static extern int LGBM_BoosterFree(IntPtr booster);
    [DllImport(Library)] public static extern int LGBM_BoosterSaveModelToString(LightGbmBooster booster, int startIteration, int iterations,
        int featureImportanceType, long bufferLength, out long length, [Out] byte[]? buffer);
    [DllImport(Library)] public static extern int LGBM_BoosterLoadModelFromString([MarshalAs(UnmanagedType.LPUTF8Str)] string modelString,
        out int iterations, out LightGbmBooster booster);
}
