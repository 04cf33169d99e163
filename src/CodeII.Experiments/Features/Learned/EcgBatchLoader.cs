using System.Buffers;
using System.Threading.Channels;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features.Learned;

/// <summary>A batch as the network takes it: signals (batch, leads, samples) lead-major per exam, targets (batch, classes).</summary>
public sealed class EcgBatch(float[] signals, float[] targets, int count, int[] indices) : IDisposable
{
    public float[] Signals { get; } = signals;
    public float[] Targets { get; } = targets;
    public int Count { get; } = count;
    /// <summary>Source indices of the exams, in batch order.</summary>
    public int[] Indices { get; } = indices;

    /// <summary>The signals as a (batch, 12, samples) tensor, copied straight into libtorch's memory.</summary>
    public TorchSharp.torch.Tensor SignalTensor(int samples) => ToTensor(Signals.AsSpan(0, Count * EcgBatchLoader.Leads * samples), Count, samples);

    /// <summary>Exams laid out as (exams, 12, samples), copied straight into a new tensor's memory.</summary>
    public static TorchSharp.torch.Tensor ToTensor(ReadOnlySpan<float> exams, int count, int samples)
    {
        var tensor = TorchSharp.torch.empty([count, EcgBatchLoader.Leads, samples], TorchSharp.torch.float32);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(exams).CopyTo(tensor.bytes);
        return tensor;
    }

    /// <summary>The signal buffer is pooled: it returns to the pool here, after its tensor has copied it.</summary>
    public void Dispose() => ArrayPool<float>.Shared.Return(Signals);
}

/// <summary>
/// Streams batches from an ECG source for the network: a background task decodes each batch's exams in parallel and
/// keeps a few batches ready, so training does not wait on I/O, while memory stays bounded by the prefetch depth.
/// Exams must already have the network's sampling rate and length (wrap the source in a PreprocessedSource); leads
/// are placed in the standard 12-lead order, and a lead the record lacks stays zero.
/// </summary>
public sealed class EcgBatchLoader(IEcgSource source, IReadOnlyList<string> classes, int samples, int decodeThreads, int prefetchBatches = 3,
    NetworkInputCache? inputCache = null)
{
    public int Samples { get; } = samples;
    public IReadOnlyList<string> Classes { get; } = classes;
    public const int Leads = 12;

    public async IAsyncEnumerable<EcgBatch> Batches(IReadOnlyList<int> order, int batchSize,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var channel = Channel.CreateBounded<EcgBatch>(new BoundedChannelOptions(Math.Max(1, prefetchBatches)) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(async () =>
        {
            try
            {
                for (var start = 0; start < order.Count; start += batchSize)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var indices = order.Skip(start).Take(batchSize).ToArray();
                    await channel.Writer.WriteAsync(Decode(indices), cancellation);
                }
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        }, cancellation);
        await foreach (var batch in channel.Reader.ReadAllAsync(cancellation)) yield return batch;
        await producer;
    }

    /// <summary>How inference reads records of other lengths than the input (<see cref="NetworkInput"/>).</summary>
    public NetworkInput Input { get; init; } = new();

    /// <summary>With windows: the same records at the network's rate, uncropped.</summary>
    public IEcgSource? WholeRecords { get; init; }

    /// <summary>
    /// Every window of each record (<see cref="NetworkInput.WindowStarts"/>), laid out as exams (windows, 12, samples),
    /// and how many windows each record has. A record no longer than the input is one window: its centred input, the
    /// one <see cref="Decode"/> gives.
    /// </summary>
    public (float[] Windows, int[] Counts) DecodeWindows(int[] indices)
    {
        var perExam = Leads * Samples;
        var perRecord = new float[indices.Length][];
        var counts = new int[indices.Length];
        ParallelLoop.For(indices.Length, decodeThreads, CancellationToken.None, b =>
        {
            var whole = RecordBoundary.Read(WholeRecords ?? throw new InvalidOperationException("a windowed loader needs the whole records"), indices[b]);
            var (offset, length) = whole.RecordedSamples.GetOffsetAndLength(whole.SampleCount);
            var starts = Input.WindowStarts(length, Samples);
            if (starts.Count == 0)
            {
                perRecord[b] = new float[perExam];
                Place(RecordBoundary.Read(source, indices[b]), perRecord[b], Samples, source.Name);
                counts[b] = 1;
                return;
            }
            perRecord[b] = new float[starts.Count * perExam];
            for (var w = 0; w < starts.Count; w++)
            {
                var exam = perRecord[b].AsSpan(w * perExam, perExam);
                for (var l = 0; l < whole.Leads.Count; l++)
                {
                    var lead = StandardLeads.IndexOf(whole.Leads[l]);
                    if (lead < 0) continue;
                    var destination = exam.Slice(lead * Samples, Samples);
                    whole.Signals[l].AsSpan(offset + starts[w], Samples).CopyTo(destination);
                    foreach (ref var v in destination) if (!float.IsFinite(v)) v = 0;
                }
            }
            counts[b] = starts.Count;
        });
        return ([.. perRecord.SelectMany(r => r)], counts);
    }

    /// <summary>Labels by source index from the caller's table: with them a cached input needs no decoding at all.</summary>
    public Func<int, IReadOnlySet<string>>? Labels { get; init; }

    public EcgBatch Decode(int[] indices)
    {
        var perExam = Leads * Samples;
        var signals = ArrayPool<float>.Shared.Rent(indices.Length * perExam);
        var targets = new float[indices.Length * Classes.Count];
        ParallelLoop.For(indices.Length, decodeThreads, CancellationToken.None, b =>
        {
            var exam = signals.AsSpan(b * perExam, perExam);
            IReadOnlySet<string> labels;
            if (inputCache?.TryRead(indices[b], exam) == true && Labels is not null)
                labels = Labels(indices[b]);
            else
            {
                var record = RecordBoundary.Read(source, indices[b]);
                labels = record.Labels;
                Place(record, exam, Samples, source.Name);
                inputCache?.Write(indices[b], exam);
            }
            for (var c = 0; c < Classes.Count; c++) targets[b * Classes.Count + c] = labels.Contains(Classes[c]) ? 1 : 0;
        });
        return new EcgBatch(signals, targets, indices.Length, indices);
    }

    /// <summary>Writes a record's leads into an exam slot (12 × samples) in the standard order, padding left at zero.</summary>
    public static void Place(EcgRecord record, Span<float> exam, int samples, string sourceName)
    {
        exam.Clear();
        var (offset, length) = record.RecordedSamples.GetOffsetAndLength(record.SampleCount);
        if (record.SampleCount != samples)
            throw new EcgDataException(sourceName, record.ExamId, "samples",
                $"has {record.SampleCount} samples at {record.SamplingRateHz} Hz; the network takes {samples} (set preprocessing resample_hz and length)");
        for (var l = 0; l < record.Leads.Count; l++)
        {
            var lead = StandardLeads.IndexOf(record.Leads[l]);
            if (lead < 0) continue;
            var destination = exam.Slice(lead * samples, samples);
            // Padding outside the recorded range stays zero, whatever the reader put there.
            record.Signals[l].AsSpan(offset, length).CopyTo(destination.Slice(offset, length));
            foreach (ref var v in destination.Slice(offset, length)) if (!float.IsFinite(v)) v = 0;
        }
    }
}
