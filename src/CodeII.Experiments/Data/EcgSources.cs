using CodeII.Experiments.Data.Challenge;
using CodeII.Experiments.Data.Code;
using CodeII.Experiments.Data.PtbXl;
using CodeII.Experiments.Data.Wfdb;

namespace CodeII.Experiments.Data;

/// <summary>Opens any supported dataset from its path, recognising the format by its files.</summary>
public static class EcgSources
{
    public static IEcgSource Open(string path, int ptbXlSamplingRateHz = 500)
    {
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, PtbXlDatabase.DatabaseFile))) return new PtbXlSource(path, new PtbXlOptions { SamplingRateHz = ptbXlSamplingRateHz });
            if (File.Exists(Path.Combine(path, CodeLayout.MetadataFile)) && Directory.GetFiles(path, "*.hdf5").Length > 0) return new CodeHdf5Source(path);
            var headers = Directory.GetFiles(path, "*.hea");
            if (headers.Length > 0)
                return headers.Any(h => File.ReadLines(h).Any(l => l.StartsWith("# Dx:", StringComparison.OrdinalIgnoreCase)))
                    ? new ChallengeSource(path) : new WfdbFolderSource(headers);
            throw new EcgDataException(path, "(folder)", "format",
                "not recognised: expected ptbxl_database.csv (PTB-XL), exams.csv with .hdf5 parts (CODE) or WFDB .hea files");
        }
        var header = path.EndsWith(".hea", StringComparison.OrdinalIgnoreCase) ? path : path + ".hea";
        if (File.Exists(header)) return new WfdbFolderSource([header]);
        throw new EcgDataException(path, "(path)", "format", "no such file or folder, or not a recognised ECG dataset");
    }

    /// <summary>The index of the exam with id <paramref name="examId"/>, read from ids only.</summary>
    public static int IndexOf(IEcgSource source, string examId, string path)
    {
        for (var i = 0; i < source.Count; i++)
            if (source.ExamIdAt(i) == examId) return i;
        throw new EcgDataException(path, examId, "record", $"no exam with this id among the {source.Count} records");
    }
}
