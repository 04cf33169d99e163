using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using PureHDF;
using PureHDF.Selections;

namespace CodeII.Experiments.Data.Code;

/// <summary>
/// The CODE-15% layout (Ribeiro et al. 2020, Zenodo 4916206): <c>exams_part*.hdf5</c> files, each with a
/// <c>tracings</c> dataset (N, 4096, 12) float32 in mV at 400 Hz, leads DI, DII, DIII, AVR, AVL, AVF, V1–V6, and an
/// <c>exam_id</c> dataset (N,); plus <c>exams.csv</c> with one row per exam. 10 s and 7 s recordings are zero-padded,
/// centred, to 4096 samples.
/// </summary>
public static class CodeLayout
{
    public const string TracingsDataset = "tracings";
    public const string ExamIdDataset = "exam_id";
    public const string MetadataFile = "exams.csv";
    public const double SamplingRateHz = 400;
    public const int Samples = 4096;
    public const int Leads = 12;

    /// <summary>Columns of exams.csv that are not diagnostic classes; every other named column is a class, so CODE-II's
    /// 66-class CSV needs no code change.</summary>
    public static readonly IReadOnlySet<string> MetadataColumns = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "exam_id", "age", "is_male", "sex", "nn_predicted_age", "patient_id", "normal_ecg", "death", "timey", "trace_file", "split",
    };
}

/// <summary>
/// Streams CODE-15% / CODE-II exams from their HDF5 parts, joined to exams.csv by exam_id. PureHDF reads each part's
/// metadata; the tracings are read straight from the file where the layout allows (see <see cref="ReadPath"/>).
/// </summary>
public sealed class CodeHdf5Source : IEcgSource, IDisposable
{
    sealed record Part(string Path, long[] ExamIds, TracingsReader Tracings);
    sealed record Metadata(string PatientId, int? Age, Sex Sex, IReadOnlySet<string> Labels);

    readonly List<Part> _parts = [];
    readonly (int Part, int Row)[] _index;
    readonly Dictionary<long, Metadata> _metadata;

    /// <param name="directory">Holds <c>exams.csv</c> and <c>exams_part*.hdf5</c>.</param>
    /// <param name="reading">Direct where the layout allows (the default), or PureHDF throughout.</param>
    public CodeHdf5Source(string directory, CodeHdf5Reading reading = CodeHdf5Reading.Direct)
    {
        if (!System.IO.Directory.Exists(directory)) throw new EcgDataException(directory, "(folder)", "folder", "not found");
        Directory = directory;
        var files = System.IO.Directory.GetFiles(directory, "*.hdf5").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new EcgDataException(directory, "(folder)", "signal files", "no .hdf5 files");
        (_metadata, ClassNames, HasPatientIds) = ReadMetadata(DatasetPaths.Held(directory, Path.Combine(directory, CodeLayout.MetadataFile), "(file)", "label file"));
        var index = new List<(int, int)>();
        var placeOfExam = new Dictionary<long, (string Part, int Row)>();
        try
        {
            foreach (var path in files)
            {
                DatasetPaths.Held(directory, path, "(file)", "HDF5 part");
                var (tracings, examIds) = OpenPart(path, reading);
                _parts.Add(new Part(path, examIds, tracings));
                if (tracings.Samples != _parts[0].Tracings.Samples)
                    throw new EcgDataException(path, "(file)", CodeLayout.TracingsDataset, $"has {tracings.Samples} samples per exam, {_parts[0].Path} {_parts[0].Tracings.Samples}: the parts of one dataset have one shape");
                for (var r = 0; r < examIds.Length; r++)
                {
                    var id = examIds[r];
                    if (!_metadata.ContainsKey(id))
                        throw new EcgDataException(path, $"exam_id {id}", "exam_id", $"has no row in {CodeLayout.MetadataFile}");
                    // One exam read twice would be counted twice in its part of the split and in every test metric.
                    if (!placeOfExam.TryAdd(id, (path, r)))
                        throw new EcgDataException(path, $"exam_id {id}", "exam_id", placeOfExam[id].Part == path
                            ? $"appears twice in this part, at {CodeLayout.ExamIdDataset}[{placeOfExam[id].Row}] and [{r}]"
                            : $"is also in {placeOfExam[id].Part}: an exam belongs to one part only");
                }
                for (var r = 0; r < examIds.Length; r++) index.Add((_parts.Count - 1, r));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        _index = index.ToArray();
        SamplesPerExam = _parts[0].Tracings.Samples;
    }

    /// <summary>A part's tracings reader and exam ids. PureHDF reports a truncated or foreign file with a bare
    /// <see cref="Exception"/>, which is located here by the part's path.</summary>
    static (TracingsReader Tracings, long[] ExamIds) OpenPart(string path, CodeHdf5Reading reading)
    {
        try
        {
            using var file = H5File.OpenRead(path);
            IH5Dataset tracings, ids;
            try
            {
                tracings = file.Dataset(CodeLayout.TracingsDataset);
                ids = file.Dataset(CodeLayout.ExamIdDataset);
            }
            catch (Exception e) when (e is not EcgDataException)
            {
                throw new EcgDataException(path, "(file)", "datasets", $"expected '{CodeLayout.TracingsDataset}' and '{CodeLayout.ExamIdDataset}': {e.Message}");
            }
            var dims = tracings.Space.Dimensions;
            if (dims.Length != 3 || dims[2] != CodeLayout.Leads)
                throw new EcgDataException(path, "(file)", CodeLayout.TracingsDataset, $"has shape ({string.Join(", ", dims)}); expected (N, samples, 12)");
            if (tracings.Type.Class != H5DataTypeClass.FloatingPoint || tracings.Type.Size != sizeof(float))
                throw new EcgDataException(path, "(file)", CodeLayout.TracingsDataset, $"holds {tracings.Type.Class} values of {tracings.Type.Size} bytes; CODE's tracings are float32");
            var examIds = ids.Read<long[]>();
            if ((ulong)examIds.Length != dims[0])
                throw new EcgDataException(path, "(file)", CodeLayout.ExamIdDataset, $"has {examIds.Length} ids for {dims[0]} tracings");
            return (TracingsReader.Open(path, tracings, reading), examIds);
        }
        catch (Exception e) when (e is not EcgDataException)
        {
            throw new EcgDataException(path, "(file)", "HDF5", $"cannot be read ({e.Message}): the part is truncated, damaged or not HDF5");
        }
    }

    public string Directory { get; }
    public string Name => "code";
    public int Count => _index.Length;
    public int SamplesPerExam { get; }
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>False when exams.csv has no patient_id column: each exam is then its own patient.</summary>
    public bool HasPatientIds { get; }
    /// <summary>The read path does not change a value read, so it stays out of the description a run fingerprints.</summary>
    public string Describe() => $"code-hdf5 {Directory} parts={_parts.Count} exams={Count}";

    /// <summary>How the tracings are read: the direct path and its layout, or PureHDF and why; per part when they
    /// differ.</summary>
    public string ReadPath => _parts.Select(p => p.Tracings.Description).Distinct().Count() == 1
        ? _parts[0].Tracings.Description
        : string.Join("; ", _parts.Select(p => $"{Path.GetFileName(p.Path)}: {p.Tracings.Description}"));

    /// <summary>Whether every part is read directly.</summary>
    public bool ReadsDirectly => _parts.All(p => p.Tracings.IsDirect);

    /// <summary>Patient and labels of every exam in file order, without reading any signal.</summary>
    public IEnumerable<(string PatientId, IReadOnlySet<string> Labels)> PatientsAndLabels() =>
        _index.Select(i => _metadata[_parts[i.Part].ExamIds[i.Row]]).Select(m => (m.PatientId, m.Labels));

    public string ExamIdAt(int index) => _parts[_index[index].Part].ExamIds[_index[index].Row].ToString(CultureInfo.InvariantCulture);
    public string FileOf(int index) => _parts[_index[index].Part].Path;

    /// <summary>Exam <paramref name="index"/> as stored, samples × 12 leads row-major, unchecked: what h5py's
    /// <c>tracings[i]</c> gives. <see cref="Read"/> checks it and splits it into leads.</summary>
    public void ReadTracings(int index, Span<float> destination)
    {
        var (p, row) = _index[index];
        var exams = SamplesPerExam * CodeLayout.Leads;
        if (destination.Length < exams) throw new ArgumentException($"an exam holds {exams} values; the destination has room for {destination.Length}", nameof(destination));
        _parts[p].Tracings.Read(row, $"exam_id {_parts[p].ExamIds[row]}", destination[..exams]);
    }

    public EcgRecord Read(int index)
    {
        var (p, row) = _index[index];
        var part = _parts[p];
        var examId = part.ExamIds[row];
        var buffer = ArrayPool<float>.Shared.Rent(SamplesPerExam * CodeLayout.Leads);
        try
        {
            var exam = buffer.AsSpan(0, SamplesPerExam * CodeLayout.Leads);
            ReadTracings(index, exam);
            if (IndexOfNonFinite(exam) is var bad and >= 0)
                throw new EcgDataException(part.Path, $"exam_id {examId}", $"{CodeLayout.TracingsDataset}[{row}, {bad / CodeLayout.Leads}, {bad % CodeLayout.Leads}]", $"{exam[bad]} is not a finite voltage");
            var meta = _metadata[examId];
            return new EcgRecord
            {
                ExamId = examId.ToString(CultureInfo.InvariantCulture),
                PatientId = meta.PatientId,
                Age = meta.Age,
                Sex = meta.Sex,
                SamplingRateHz = CodeLayout.SamplingRateHz,
                Leads = StandardLeads.Twelve,
                Signals = ToLeads(exam, SamplesPerExam),
                RecordedSamples = Recorded(exam),
                Labels = meta.Labels,
            };
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>The first infinity or NaN in <paramref name="values"/>, or -1. Reading is as fast as this check, so it
    /// looks at a vector of exponents at a time: all ones is what makes a float32 infinite or NaN.</summary>
    static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        const uint exponent = 0x7F80_0000;
        var bits = MemoryMarshal.Cast<float, uint>(values);
        var mask = new Vector<uint>(exponent);
        var i = 0;
        for (; i + Vector<uint>.Count <= bits.Length; i += Vector<uint>.Count)
            if (Vector.EqualsAny(new Vector<uint>(bits[i..]) & mask, mask)) break;
        for (; i < bits.Length; i++)
            if ((bits[i] & exponent) == exponent) return i;
        return -1;
    }

    /// <summary>The recording is what lies between the centred zero padding: from the first sample with a non-zero
    /// value on any lead to the last. Zero is compared bit for bit, with -0 as zero too.</summary>
    static Range Recorded(ReadOnlySpan<float> exam)
    {
        var bits = MemoryMarshal.Cast<float, uint>(exam);
        var first = bits.IndexOfAnyExcept(0u, 0x8000_0000u);
        return first < 0 ? new Range(0, 0) : new Range(first / CodeLayout.Leads, bits.LastIndexOfAnyExcept(0u, 0x8000_0000u) / CodeLayout.Leads + 1);
    }

    /// <summary>Samples × 12 leads, row-major, to one array per lead. The twelve leads are held in locals, one store
    /// each per sample: going through the array of leads for every value costs a load and a bounds check each, and
    /// this loop is a third of the reading time.</summary>
    static float[][] ToLeads(ReadOnlySpan<float> exam, int samples)
    {
        const int leads = 12;
        // The stores below are unchecked, so the one check is here.
        if (exam.Length != samples * leads) throw new ArgumentException($"an exam of {samples} samples holds {samples * leads} values, not {exam.Length}", nameof(exam));
        var signals = new float[leads][];
        // Every element is written below, so the runtime need not zero the arrays first.
        for (var l = 0; l < leads; l++) signals[l] = GC.AllocateUninitializedArray<float>(samples);
        ref var l0 = ref MemoryMarshal.GetArrayDataReference(signals[0]);
        ref var l1 = ref MemoryMarshal.GetArrayDataReference(signals[1]);
        ref var l2 = ref MemoryMarshal.GetArrayDataReference(signals[2]);
        ref var l3 = ref MemoryMarshal.GetArrayDataReference(signals[3]);
        ref var l4 = ref MemoryMarshal.GetArrayDataReference(signals[4]);
        ref var l5 = ref MemoryMarshal.GetArrayDataReference(signals[5]);
        ref var l6 = ref MemoryMarshal.GetArrayDataReference(signals[6]);
        ref var l7 = ref MemoryMarshal.GetArrayDataReference(signals[7]);
        ref var l8 = ref MemoryMarshal.GetArrayDataReference(signals[8]);
        ref var l9 = ref MemoryMarshal.GetArrayDataReference(signals[9]);
        ref var l10 = ref MemoryMarshal.GetArrayDataReference(signals[10]);
        ref var l11 = ref MemoryMarshal.GetArrayDataReference(signals[11]);
        ref var first = ref MemoryMarshal.GetReference(exam);
        for (var n = 0; n < samples; n++)
        {
            ref var s = ref Unsafe.Add(ref first, n * leads);
            Unsafe.Add(ref l0, n) = s;
            Unsafe.Add(ref l1, n) = Unsafe.Add(ref s, 1);
            Unsafe.Add(ref l2, n) = Unsafe.Add(ref s, 2);
            Unsafe.Add(ref l3, n) = Unsafe.Add(ref s, 3);
            Unsafe.Add(ref l4, n) = Unsafe.Add(ref s, 4);
            Unsafe.Add(ref l5, n) = Unsafe.Add(ref s, 5);
            Unsafe.Add(ref l6, n) = Unsafe.Add(ref s, 6);
            Unsafe.Add(ref l7, n) = Unsafe.Add(ref s, 7);
            Unsafe.Add(ref l8, n) = Unsafe.Add(ref s, 8);
            Unsafe.Add(ref l9, n) = Unsafe.Add(ref s, 9);
            Unsafe.Add(ref l10, n) = Unsafe.Add(ref s, 10);
            Unsafe.Add(ref l11, n) = Unsafe.Add(ref s, 11);
        }
        return signals;
    }

    static (Dictionary<long, Metadata>, IReadOnlyList<string>, bool HasPatientIds) ReadMetadata(string path)
    {
        var table = CsvTable.Read(path);
        var examColumn = table.Column("exam_id");
        var patientColumn = table.HasColumn(PatientIds.Field) ? table.Column(PatientIds.Field) : -1;
        var ageColumn = table.HasColumn("age") ? table.Column("age") : -1;
        var maleColumn = table.HasColumn("is_male") ? table.Column("is_male") : -1;
        static bool? Flag(string v) => v.Trim().ToLowerInvariant() switch { "1" or "1.0" or "true" => true, "0" or "0.0" or "false" => false, _ => null };
        // A column of flags is a class, and a bad cell in it is an error at its row, never a reason to drop the class. A
        // column without a name (or pandas' "Unnamed: 0") is an index, and one whose cells are mostly not flags (a date,
        // a free-text note a CODE-II export may add) is metadata of its own.
        bool IsClass(int c) => !CodeLayout.MetadataColumns.Contains(table.Header[c]) && table.Header[c].Trim().Length > 0
            && !table.Header[c].StartsWith("Unnamed:", StringComparison.Ordinal)
            && table.Rows.Count(r => Flag(r[c]) is not null) * 2 >= table.Rows.Count(r => r[c].Trim().Length > 0);
        var classColumns = Enumerable.Range(0, table.Header.Count).Where(IsClass).ToArray();
        var result = new Dictionary<long, Metadata>();
        var rowOfExam = new Dictionary<long, int>();
        for (var r = 0; r < table.Rows.Count; r++)
        {
            var row = table.Rows[r];
            if (!long.TryParse(row[examColumn], NumberStyles.Integer, CultureInfo.InvariantCulture, out var examId))
                throw new EcgDataException(path, $"exam_id {row[examColumn]}", "exam_id", "is not a whole number");
            if (!rowOfExam.TryAdd(examId, r))
                throw new EcgDataException(path, $"exam_id {examId}", "exam_id", $"appears twice, in {CsvTable.RowsNamed(rowOfExam[examId], r)}");
            var labels = new HashSet<string>(StringComparer.Ordinal);
            foreach (var c in classColumns)
                switch (Flag(row[c]))
                {
                    case true: labels.Add(table.Header[c]); break;
                    // The layout has no missing label: a blank cell is as wrong as a 2.
                    case null: throw new EcgDataException(path, $"exam_id {examId}", table.Header[c],
                        $"{(row[c].Trim().Length == 0 ? "is empty" : $"'{row[c]}' is not a class flag")}: a class cell is 0 or 1 (also written 0.0/1.0 or False/True)");
                }
            var patient = patientColumn >= 0
                ? PatientIds.Read(row[patientColumn], path, $"exam_id {examId}", numeric: false)
                : examId.ToString(CultureInfo.InvariantCulture);
            int? age = ageColumn >= 0 && double.TryParse(row[ageColumn], NumberStyles.Float, CultureInfo.InvariantCulture, out var a) ? (int)a : null;
            var sex = maleColumn >= 0 ? Flag(row[maleColumn]) switch { true => Sex.Male, false => Sex.Female, _ => Sex.Unknown } : Sex.Unknown;
            result.Add(examId, new Metadata(patient, age, sex, labels));
        }
        return (result, classColumns.Select(c => table.Header[c]).ToArray(), patientColumn >= 0);
    }

    public void Dispose()
    {
        foreach (var part in _parts) part.Tracings.Dispose();
    }
}

/// <summary>Writes any source in the CODE-15% layout, streaming a batch of exams at a time.</summary>
public static class CodeHdf5Writer
{
    public static void Write(IEcgSource source, string directory, int examsPerPart = 20_000, int batchSize = 256,
        IProgress<StageProgress>? progress = null, int maxThreads = 0)
    {
        System.IO.Directory.CreateDirectory(directory);
        if (maxThreads <= 0) maxThreads = Environment.ProcessorCount;
        var classes = source.ClassNames;
        var csv = new StringBuilder("exam_id,age,is_male,nn_predicted_age," + string.Join(",", classes) + ",patient_id,normal_ecg,death,timey,trace_file\n");
        var parts = (source.Count + examsPerPart - 1) / examsPerPart;
        for (var part = 0; part < parts; part++)
        {
            var first = part * examsPerPart;
            var count = Math.Min(examsPerPart, source.Count - first);
            var fileName = $"exams_part{part}.hdf5";
            var tracings = new H5Dataset<float[]>(fileDims: [(ulong)count, CodeLayout.Samples, CodeLayout.Leads]);
            var ids = new H5Dataset<long[]>(fileDims: [(ulong)count]);
            var file = new H5File { [CodeLayout.TracingsDataset] = tracings, [CodeLayout.ExamIdDataset] = ids };
            var examIds = new long[count];
            AtomicFile.Write(Path.Combine(directory, fileName), temporary =>
            {
                using var writer = file.BeginWrite(temporary);
                for (var start = 0; start < count; start += batchSize)
                {
                    var n = Math.Min(batchSize, count - start);
                    var buffer = new float[n * CodeLayout.Samples * CodeLayout.Leads];
                    var records = new EcgRecord[n];
                    // Decoding or generating is the slow part; writing stays sequential, as HDF5 writes must be.
                    ParallelLoop.For(n, maxThreads, CancellationToken.None, k => records[k] = source.Read(first + start + k));
                    for (var k = 0; k < n; k++)
                    {
                        var record = records[k];
                        if (record.SamplingRateHz != CodeLayout.SamplingRateHz || record.SampleCount != CodeLayout.Samples)
                            throw new ArgumentException($"exam {record.ExamId}: the CODE layout holds {CodeLayout.Samples} samples at 400 Hz, not {record.SampleCount} at {record.SamplingRateHz} Hz");
                        if (!long.TryParse(record.ExamId, NumberStyles.Integer, CultureInfo.InvariantCulture, out var examId))
                            throw new ArgumentException($"exam id '{record.ExamId}' is not numeric, as CODE's exam_id must be");
                        examIds[start + k] = examId;
                        for (var l = 0; l < CodeLayout.Leads; l++)
                        {
                            var lead = StandardLeads.IndexOf(record.Leads[l]);
                            for (var s = 0; s < CodeLayout.Samples; s++)
                                buffer[(k * CodeLayout.Samples + s) * CodeLayout.Leads + lead] = record.Signals[l][s];
                        }
                        csv.Append(CultureInfo.InvariantCulture, $"{examId},{record.Age},{(record.Sex == Sex.Male ? "True" : record.Sex == Sex.Female ? "False" : "")},,")
                            .Append(string.Join(",", classes.Select(c => record.Labels.Contains(c) ? "1" : "0")))
                            .Append(CultureInfo.InvariantCulture, $",{record.PatientId},{(record.Labels.Count == 0 ? "True" : "False")},,,{fileName}\n");
                    }
                    writer.Write(tracings, buffer, fileSelection: new HyperslabSelection(3, [(ulong)start, 0, 0], [(ulong)n, CodeLayout.Samples, CodeLayout.Leads]));
                    progress?.Report(new StageProgress("write", first + start + n, source.Count));
                }
                writer.Write(ids, examIds);
            });
        }
        AtomicFile.WriteText(Path.Combine(directory, CodeLayout.MetadataFile), csv.ToString());
    }
}
