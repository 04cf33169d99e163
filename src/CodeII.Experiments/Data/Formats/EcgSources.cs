using CodeII.Experiments.Data.Challenge;
using CodeII.Experiments.Data.Code;
using CodeII.Experiments.Data.PtbXl;
using CodeII.Experiments.Data.Wfdb;

namespace CodeII.Experiments.Data.Formats;

public enum DatasetFormat { PtbXl, Code, PhysioNetChallenge, Wfdb }

/// <summary>Opens any supported dataset from its path, recognising the format by its files.</summary>
public static class EcgSources
{
    /// <summary>The format of a folder (or of one WFDB record), and the WFDB headers it holds where that applies.</summary>
    public static (DatasetFormat Format, IReadOnlyList<string> Headers) Detect(string path)
    {
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, PtbXlDatabase.DatabaseFile))) return (DatasetFormat.PtbXl, []);
            if (File.Exists(Path.Combine(path, CodeLayout.MetadataFile)) && Directory.GetFiles(path, "*.hdf5").Length > 0) return (DatasetFormat.Code, []);
            var headers = Directory.GetFiles(path, "*.hea");
            if (headers.Length > 0)
                // Only headers the folder holds are read to tell the format; any other is refused when its record is read.
                return (headers.Where(h => DatasetPaths.Holds(path, h)).Any(h => File.ReadLines(h).Any(l => l.StartsWith("# Dx:", StringComparison.OrdinalIgnoreCase)))
                    ? DatasetFormat.PhysioNetChallenge : DatasetFormat.Wfdb, headers);
            throw new EcgDataException(path, "(folder)", "format",
                "not recognised: expected ptbxl_database.csv (PTB-XL), exams.csv with .hdf5 parts (CODE) or WFDB .hea files (PhysioNet, Challenge)");
        }
        if (path.EndsWith(".hdf5", StringComparison.OrdinalIgnoreCase))
            throw new EcgDataException(path, "(file)", "format", $"give the folder holding the HDF5 parts and {CodeLayout.MetadataFile}, not one part");
        var header = path.EndsWith(".hea", StringComparison.OrdinalIgnoreCase) ? path : path + ".hea";
        if (File.Exists(header)) return (DatasetFormat.Wfdb, [header]);
        throw new EcgDataException(path, "(path)", "format", "no such file or folder, or not a recognised ECG dataset");
    }

    /// <param name="ptbXlSamplingRateHz">PTB-XL's records500 or records100; by default 500 Hz, or 100 Hz for a download
    /// that holds records100 alone.</param>
    public static IEcgSource Open(string path, int? ptbXlSamplingRateHz = null)
    {
        var (format, headers) = Detect(path);
        return format switch
        {
            DatasetFormat.PtbXl => new PtbXlSource(path, new PtbXlOptions
            {
                SamplingRateHz = ptbXlSamplingRateHz
                    ?? (!Directory.Exists(Path.Combine(path, "records500")) && Directory.Exists(Path.Combine(path, "records100")) ? 100 : 500),
            }),
            DatasetFormat.Code => new CodeHdf5Source(path),
            DatasetFormat.PhysioNetChallenge => new ChallengeSource(path),
            _ => new WfdbFolderSource(headers),
        };
    }

    /// <summary>The index of the exam with id <paramref name="examId"/>, read from ids only.</summary>
    public static int IndexOf(IEcgSource source, string examId, string path)
    {
        for (var i = 0; i < source.Count; i++)
            if (source.ExamIdAt(i) == examId) return i;
        throw new EcgDataException(path, examId, "record", $"no exam with this id among the {source.Count} records");
    }
}
