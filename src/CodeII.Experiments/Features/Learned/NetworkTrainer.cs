using System.Diagnostics;
using System.Text.Json;
using CodeII.Experiments.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeII.Experiments.Features.Learned;

/// <summary>How the network is trained. Plain data; every field has a default.</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 20;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Weight each class's positives by negatives/positives in the training set (BCE pos_weight).</summary>
    public bool WeightPositives { get; init; }
    /// <summary>Reduce-on-plateau: epochs without a better validation macro-AUROC before the rate is multiplied by <see cref="PlateauFactor"/>.</summary>
    public int PlateauPatience { get; init; } = 2;
    public double PlateauFactor { get; init; } = 0.1;
    public double MinimumLearningRate { get; init; } = 1e-6;
    /// <summary>Early stopping: epochs without a better validation macro-AUROC before training stops.</summary>
    public int EarlyStoppingPatience { get; init; } = 5;
    /// <summary>Stop after the epoch during which this much wall time has passed (null: no limit).</summary>
    public TimeSpan? TimeBudget { get; init; }
    public int Seed { get; init; } = 42;
    /// <summary>libtorch threads; null uses every core.</summary>
    public int? Threads { get; init; }
    public int DecodeThreads { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);
}

/// <summary>One finished epoch.</summary>
public sealed record EpochSummary(int Epoch, double TrainingLoss, double ValidationMacroAuroc, IReadOnlyList<double> ValidationAuroc,
    double LearningRate, double SamplesPerSecond, double Seconds);

/// <summary>Progress during an epoch, for a live display.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double RunningLoss, double? LastValidationMacroAuroc, double SamplesPerSecond);

/// <summary>What a checkpoint folder records besides the weights; resuming reads it back.</summary>
public sealed record TrainingState
{
    public int CompletedEpochs { get; init; }
    public int BestEpoch { get; init; }
    public double BestValidationMacroAuroc { get; init; } = double.NegativeInfinity;
    public double LearningRate { get; init; }
    public int EpochsSinceImprovement { get; init; }
    public int EpochsSinceRateChange { get; init; }
    /// <summary>Early stopping or the time budget ended training; resuming does not continue it.</summary>
    public bool Stopped { get; init; }
    public string? StopReason { get; init; }
    public List<EpochSummary> History { get; init; } = [];
}

/// <summary>
/// Trains a <see cref="ResNet1d"/> for multi-label classification: BCE on logits (optionally positive-weighted), Adam,
/// reduce-on-plateau and early stopping on the validation macro-AUROC, keeping the best epoch's weights.
/// Deterministic by seed: epoch e shuffles with seed + e and reseeds libtorch (dropout) with it, so a run resumed
/// at epoch e continues exactly as an uninterrupted one. libtorch's generator is process-wide, so this holds for one
/// training at a time per process. Each batch runs in a dispose scope, so native memory stays
/// flat. With a checkpoint folder, each epoch leaves last.bin, best.bin, optimizer.bin and state.json there
/// (each written whole, then renamed), and training resumes from them.
/// </summary>
public sealed class NetworkTrainer(TrainingOptions options)
{
    public TrainingOptions Options { get; } = options;

    const string StateFile = "state.json";
    const string LastWeights = "last.bin";
    const string BestWeights = "best.bin";
    const string OptimizerFile = "optimizer.bin";
    // Best-so-far starts at −∞, and an AUROC is NaN for a class with one outcome: both must round-trip.
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // A state file of another layout is not silently read as "no epochs done" with the weights of some epoch.
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Trains (or resumes) and leaves <paramref name="model"/> holding the best epoch's weights.</summary>
    public TrainingState Train(ResNet1d model, EcgBatchLoader loader, IReadOnlyList<int> training, IReadOnlyList<int> validation,
        string? checkpointFolder = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (training.Count == 0) throw new ArgumentException("no training exams");
        if (validation.Count == 0) throw new ArgumentException("no validation exams: early stopping and the plateau schedule need them");
        TorchRuntime.EnsureLoaded(Options.Threads);
        torch.manual_seed(Options.Seed);
        var state = new TrainingState { LearningRate = Options.LearningRate };
        using var optimizer = optim.Adam(model.parameters(), Options.LearningRate);
        if (checkpointFolder is not null)
        {
            Directory.CreateDirectory(checkpointFolder);
            state = Resume(model, optimizer, checkpointFolder) ?? state;
        }
        if (state.Stopped) return Finish(model, checkpointFolder, state);
        SetLearningRate(optimizer, state.LearningRate);

        using var positiveWeight = Options.WeightPositives ? PositiveWeights(loader, training) : null;
        var clock = Stopwatch.StartNew();
        for (var epoch = state.CompletedEpochs + 1; epoch <= Options.Epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            var (loss, samples) = TrainEpoch(model, optimizer, loader, training, epoch, positiveWeight, state, progress, cancellation);
            var trainSeconds = epochClock.Elapsed.TotalSeconds;
            var auroc = ValidationAuroc(model, loader, validation, cancellation);
            var macro = auroc.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
            var summary = new EpochSummary(epoch, loss, macro, auroc, state.LearningRate, samples / trainSeconds, epochClock.Elapsed.TotalSeconds);
            state = Advance(state, summary, Options);
            if (state.LearningRate != summary.LearningRate) SetLearningRate(optimizer, state.LearningRate);
            if (Options.TimeBudget is { } budget && clock.Elapsed >= budget && !state.Stopped)
                state = state with { Stopped = true, StopReason = $"time budget of {budget.TotalSeconds:0} s reached after epoch {epoch}" };
            if (checkpointFolder is not null) Save(model, optimizer, checkpointFolder, state, improved: state.BestEpoch == epoch);
            else if (state.BestEpoch == epoch)
            {
                foreach (var t in _bestInMemory?.Values.ToArray() ?? []) t.Dispose();
                _bestInMemory = model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
            }
            if (state.Stopped) break;
        }
        // Not persisted: a resumed run with more epochs carries on from here.
        if (!state.Stopped) state = state with { StopReason = $"all {Options.Epochs} epochs done" };
        return Finish(model, checkpointFolder, state);
    }

    Dictionary<string, Tensor>? _bestInMemory;

    /// <summary>The schedule after an epoch: best so far, plateau rate cuts, early stopping.</summary>
    internal static TrainingState Advance(TrainingState state, EpochSummary summary, TrainingOptions Options)
    {
        var improved = summary.ValidationMacroAuroc > state.BestValidationMacroAuroc;
        var next = state with
        {
            CompletedEpochs = summary.Epoch,
            History = [.. state.History, summary],
            BestEpoch = improved ? summary.Epoch : state.BestEpoch,
            BestValidationMacroAuroc = improved ? summary.ValidationMacroAuroc : state.BestValidationMacroAuroc,
            EpochsSinceImprovement = improved ? 0 : state.EpochsSinceImprovement + 1,
            EpochsSinceRateChange = improved ? 0 : state.EpochsSinceRateChange + 1,
        };
        if (next.EpochsSinceRateChange >= Options.PlateauPatience && next.LearningRate > Options.MinimumLearningRate)
            next = next with { LearningRate = Math.Max(Options.MinimumLearningRate, next.LearningRate * Options.PlateauFactor), EpochsSinceRateChange = 0 };
        if (next.EpochsSinceImprovement >= Options.EarlyStoppingPatience)
            next = next with { Stopped = true, StopReason = $"no better validation macro-AUROC for {Options.EarlyStoppingPatience} epochs (best {next.BestValidationMacroAuroc:0.000} at epoch {next.BestEpoch})" };
        return next;
    }

    (double Loss, int Samples) TrainEpoch(ResNet1d model, optim.Optimizer optimizer, EcgBatchLoader loader, IReadOnlyList<int> training,
        int epoch, Tensor? positiveWeight, TrainingState state, IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        model.train();
        torch.manual_seed(Options.Seed + epoch);
        var order = training.ToArray();
        new Random(Options.Seed + epoch).Shuffle(order);
        var batches = (order.Length + Options.BatchSize - 1) / Options.BatchSize;
        double lossSum = 0;
        var samples = 0;
        var batch = 0;
        var clock = Stopwatch.StartNew();
        var lastAuroc = state.History.Count > 0 ? state.History[^1].ValidationMacroAuroc : (double?)null;
        foreach (var data in Synchronously(loader.Batches(order, Options.BatchSize, cancellation)))
        {
            using (data)
            using (var scope = NewDisposeScope())
            {
                var x = data.SignalTensor(loader.Samples);
                var y = tensor(data.Targets, [data.Count, loader.Classes.Count]);
                model.ClearGradients();
                var loss = nn.functional.binary_cross_entropy_with_logits(model.forward(x), y, pos_weights: positiveWeight);
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>() * data.Count;
            }
            samples += data.Count;
            batch++;
            progress?.Report(new TrainingProgress(epoch, Options.Epochs, batch, batches, lossSum / samples, lastAuroc, samples / clock.Elapsed.TotalSeconds));
        }
        return (lossSum / samples, samples);
    }

    /// <summary>Per-class validation AUROC of the sigmoid outputs (NaN for a class with one outcome only).</summary>
    double[] ValidationAuroc(ResNet1d model, EcgBatchLoader loader, IReadOnlyList<int> validation, CancellationToken cancellation)
    {
        var (scores, truth) = Predict(model, loader, validation, cancellation);
        var classes = loader.Classes.Count;
        var result = new double[classes];
        for (var c = 0; c < classes; c++)
        {
            var s = Enumerable.Range(0, validation.Count).Select(i => scores[i * classes + c]).ToArray();
            var t = Enumerable.Range(0, validation.Count).Select(i => truth[i * classes + c] > 0.5f).ToArray();
            result[c] = t.Any(v => v) && t.Any(v => !v) ? BinaryMetrics.Auroc(s, t) : double.NaN;
        }
        return result;
    }

    /// <summary>Sigmoid outputs (exam-major, one per class) and targets for <paramref name="indices"/>, in evaluation mode.</summary>
    public (float[] Scores, float[] Targets) Predict(ResNet1d model, EcgBatchLoader loader, IReadOnlyList<int> indices, CancellationToken cancellation = default)
    {
        model.eval();
        var classes = loader.Classes.Count;
        var scores = new float[indices.Count * classes];
        var targets = new float[indices.Count * classes];
        var at = 0;
        // Inference mode rather than no_grad: its tensors carry no version counters or autograd metadata.
        using var inference = inference_mode();
        foreach (var data in Synchronously(loader.Batches(indices, Options.BatchSize * 2, cancellation)))
        {
            using (data)
            using (var scope = NewDisposeScope())
            {
                var x = data.SignalTensor(loader.Samples);
                model.Probabilities(x).data<float>().CopyTo(scores, at * classes);
                data.Targets.AsSpan(0, data.Count * classes).CopyTo(targets.AsSpan(at * classes));
            }
            at += data.Count;
        }
        return (scores, targets);
    }

    static IEnumerable<T> Synchronously<T>(IAsyncEnumerable<T> items)
    {
        var enumerator = items.GetAsyncEnumerator();
        try
        {
            while (enumerator.MoveNextAsync().AsTask().GetAwaiter().GetResult()) yield return enumerator.Current;
        }
        finally
        {
            enumerator.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>BCE pos_weight per class: negatives / positives among the training exams (1 positive at least).</summary>
    internal static Tensor PositiveWeights(EcgBatchLoader loader, IReadOnlyList<int> training)
    {
        var positives = new double[loader.Classes.Count];
        if (loader.Labels is { } labelsOf)
            // The caller's labels: no exam needs decoding just to be counted.
            foreach (var exam in training)
                for (var c = 0; c < positives.Length; c++) positives[c] += labelsOf(exam).Contains(loader.Classes[c]) ? 1 : 0;
        else
            foreach (var data in Synchronously(loader.Batches(training, 256)))
                using (data)
                    for (var i = 0; i < data.Count; i++)
                        for (var c = 0; c < positives.Length; c++) positives[c] += data.Targets[i * positives.Length + c];
        return tensor(positives.Select(p => (float)((training.Count - p) / Math.Max(1, p))).ToArray());
    }

    static void SetLearningRate(optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }

    void Save(ResNet1d model, optim.Optimizer optimizer, string folder, TrainingState state, bool improved)
    {
        AtomicFile.Write(Path.Combine(folder, LastWeights), temporary => model.save(temporary));
        if (improved) File.Copy(Path.Combine(folder, LastWeights), Path.Combine(folder, BestWeights + ".tmp"), overwrite: true);
        if (improved) File.Move(Path.Combine(folder, BestWeights + ".tmp"), Path.Combine(folder, BestWeights), overwrite: true);
        AtomicFile.Write(Path.Combine(folder, OptimizerFile), temporary => ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(temporary));
        // The state file goes last: it names the epoch the other files belong to.
        AtomicFile.WriteText(Path.Combine(folder, StateFile), JsonSerializer.Serialize(state, Json));
    }

    static TrainingState? Resume(ResNet1d model, optim.Optimizer optimizer, string folder)
    {
        var statePath = Path.Combine(folder, StateFile);
        if (!File.Exists(statePath)) return null;
        TrainingState state;
        try
        {
            state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath), Json)
                ?? throw new InvalidDataException($"{statePath}: empty training state");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{statePath}: not a training state this version can resume ({e.Message}); delete the folder to train again", e);
        }
        model.load(Path.Combine(folder, LastWeights));
        ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(Path.Combine(folder, OptimizerFile));
        return state;
    }

    TrainingState Finish(ResNet1d model, string? folder, TrainingState state)
    {
        if (folder is not null && File.Exists(Path.Combine(folder, BestWeights))) model.load(Path.Combine(folder, BestWeights));
        else if (_bestInMemory is not null) model.load_state_dict(_bestInMemory);
        foreach (var t in _bestInMemory?.Values.ToArray() ?? []) t.Dispose();
        _bestInMemory = null;
        model.eval();
        return state;
    }
}
