using System.Reflection;
using PureHDF;
using PureHDF.VOL.Native;

namespace CodeII.Experiments.Data.Code;

/// <summary>The HDF5 filters the direct reader undoes itself; HDF5's registered ids.</summary>
public enum Hdf5Filter
{
    Deflate = 1,
    Shuffle = 2,
}

/// <summary>Where one chunk lies in the file, and which of the dataset's filters were skipped for it (bit i set: filter
/// i was not applied).</summary>
public readonly record struct Hdf5ChunkLocation(long FileOffset, long StoredBytes, uint SkippedFilters);

/// <summary>
/// Where a dataset of IEEE float32 elements lies in its file, in C order: one contiguous block, or chunks on a regular
/// grid. Offsets are absolute (the superblock's base address added).
/// </summary>
/// <param name="BigEndian">The elements' byte order in the file.</param>
public abstract record Hdf5Float32Storage(ulong[] Dimensions, bool BigEndian)
{
    public sealed record Contiguous(ulong[] Dimensions, bool BigEndian, long FileOffset) : Hdf5Float32Storage(Dimensions, BigEndian);

    /// <param name="Chunks">Indexed by the chunk's position on the chunk grid, row-major.</param>
    /// <param name="Filters">In the order they were applied when writing.</param>
    public sealed record Chunked(ulong[] Dimensions, bool BigEndian, int[] ChunkDimensions, Hdf5ChunkLocation[] Chunks, Hdf5Filter[] Filters)
        : Hdf5Float32Storage(Dimensions, BigEndian)
    {
        public long ChunkElements => ChunkDimensions.Aggregate(1L, (product, d) => product * d);
    }
}

/// <summary>
/// Finds a dataset's storage through PureHDF's own metadata reader. PureHDF parses everything needed (layout message,
/// chunk index of every kind, filter pipeline, datatype) but keeps it internal, so it is reached by reflection here,
/// against the version the project pins. Anything unexpected, a different PureHDF included, gives a reason instead of
/// a storage, and the caller reads through PureHDF's public API.
/// </summary>
public static class PureHdfStorage
{
    const BindingFlags Members = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
    const ulong UndefinedAddress = ulong.MaxValue;

    /// <summary>The dataset's storage, or null and why the direct reader cannot use it.</summary>
    public static Hdf5Float32Storage? Locate(IH5Dataset dataset, out string whyNot)
    {
        try
        {
            return LocateCore(dataset, out whyNot);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // PureHDF itself failed on the file (a damaged chunk index, say): an error in the data, not in the reflection.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
        catch (Exception e) when (e is MemberAccessException or InvalidCastException or NullReferenceException or ArgumentException)
        {
            whyNot = $"PureHDF's internal metadata did not have the expected shape ({e.GetType().Name}: {e.Message})";
            return null;
        }
    }

    static Hdf5Float32Storage? LocateCore(IH5Dataset dataset, out string whyNot)
    {
        if (dataset is not NativeDataset native) { whyNot = "not a dataset in a local HDF5 file"; return null; }
        if (dataset.Type.Class != H5DataTypeClass.FloatingPoint || dataset.Type.Size != 4)
        {
            whyNot = $"elements are {dataset.Type.Class} of {dataset.Type.Size} bytes, not float32";
            return null;
        }
        var type = Property(native, "InternalDataType");
        if (!IsIeeeSingle(type, out var bigEndian, out whyNot)) return null;
        var dims = dataset.Space.Dimensions;
        var context = Property(native, "Context");
        var baseAddress = (ulong)Property(Property(context, "Superblock"), "BaseAddress");
        var layout = Property(native, "InternalDataLayout");
        switch (dataset.Layout.Class)
        {
            case H5DataLayoutClass.Contiguous:
                var address = layout.GetType().GetProperty("Address", Members) is { } direct
                    ? (ulong)direct.GetValue(layout)!
                    : (ulong)Property(Property(layout, "Properties"), "Address");
                if (address == UndefinedAddress) { whyNot = "the dataset has no storage allocated (all fill value)"; return null; }
                whyNot = "";
                return new Hdf5Float32Storage.Contiguous(dims, bigEndian, checked((long)(baseAddress + address)));
            case H5DataLayoutClass.Chunked:
                return LocateChunks(native, context, layout, dims, bigEndian, baseAddress, out whyNot);
            default:
                whyNot = $"the dataset's layout is {dataset.Layout.Class}";
                return null;
        }
    }

    static bool IsIeeeSingle(object type, out bool bigEndian, out string whyNot)
    {
        var order = Property(Property(type, "BitField"), "ByteOrder").ToString();
        bigEndian = order == "BigEndian";
        if (order is not ("LittleEndian" or "BigEndian")) { whyNot = $"float32 elements are in {order} byte order"; return false; }
        var format = ((Array)Property(type, "Properties")).GetValue(0)!;
        (string Name, ulong Value)[] ieee = [("BitOffset", 0), ("BitPrecision", 32), ("ExponentLocation", 23), ("ExponentSize", 8), ("MantissaLocation", 0), ("MantissaSize", 23), ("ExponentBias", 127)];
        foreach (var (name, value) in ieee)
            if (Convert.ToUInt64(Property(format, name), System.Globalization.CultureInfo.InvariantCulture) != value)
            {
                whyNot = $"float32 elements are not IEEE single precision ({name} is {Property(format, name)})";
                return false;
            }
        whyNot = "";
        return true;
    }

    static Hdf5Float32Storage? LocateChunks(NativeDataset native, object context, object layout, ulong[] dims, bool bigEndian, ulong baseAddress, out string whyNot)
    {
        var filters = new List<Hdf5Filter>();
        if (Property(native, "InternalFilterPipeline") is { } pipeline)
            foreach (var description in (Array)Property(pipeline, "FilterDescriptions"))
            {
                var id = Convert.ToInt32(Property(description!, "Identifier"), System.Globalization.CultureInfo.InvariantCulture);
                if (id == (int)Hdf5Filter.Shuffle)
                {
                    var clientData = (uint[])Property(description!, "ClientData");
                    // The element size is the shuffle filter's parameter; anything but 4 was not written for float32.
                    if (clientData.Length > 0 && clientData[0] != 4) { whyNot = $"the shuffle filter is set for {clientData[0]}-byte elements"; return null; }
                    filters.Add(Hdf5Filter.Shuffle);
                }
                else if (id == (int)Hdf5Filter.Deflate) filters.Add(Hdf5Filter.Deflate);
                else { whyNot = $"chunks pass through HDF5 filter {id} ({FilterName(id, (string)Property(description!, "Name"))}); only deflate and shuffle are read directly"; return null; }
            }

        var datasetInfoType = typeof(NativeDataset).Assembly.GetType("PureHDF.VOL.Native.DatasetInfo", throwOnError: true)!;
        var datasetInfo = Activator.CreateInstance(datasetInfoType, Members, null,
            [Property(native, "InternalDataspace"), Property(native, "InternalDataType"), layout, Property(native, "InternalFillValue"),
             Property(native, "InternalFilterPipeline"), Property(native, "InternalExternalFileList")], null)!;
        var chunkType = typeof(NativeDataset).Assembly.GetType("PureHDF.VOL.Native.H5D_Chunk", throwOnError: true)!;
        var create = chunkType.GetMethod("Create", Members)!;
        var creationType = create.GetParameters()[4].ParameterType;
        using var index = (IDisposable)create.Invoke(null, [context, null, datasetInfo, default(H5DatasetAccess), Activator.CreateInstance(creationType)])!;
        chunkType.GetMethod("Initialize", Members)!.Invoke(index, null);
        var chunkDims = ((ulong[])Property(index, "ChunkDims")).Select(d => checked((int)d)).ToArray();
        var count = checked((long)(ulong)Property(index, "TotalChunkCount"));
        var getInfo = chunkType.GetMethod("GetReadChunkInfo", Members)!;
        var chunks = new Hdf5ChunkLocation[count];
        for (var c = 0L; c < count; c++)
        {
            var info = getInfo.Invoke(index, [(ulong)c])!;
            var address = (ulong)Property(info, "Address");
            if (address == UndefinedAddress) { whyNot = $"chunk {c} was never written (its values are the fill value)"; return null; }
            chunks[c] = new Hdf5ChunkLocation(checked((long)(baseAddress + address)), checked((long)(ulong)Property(info, "Size")), (uint)Property(info, "FilterMask"));
        }
        whyNot = "";
        return new Hdf5Float32Storage.Chunked(dims, bigEndian, chunkDims, chunks, filters.ToArray());
    }

    /// <summary>HDF5 leaves the names of its own filters out of the file.</summary>
    static string FilterName(int id, string stored) => id switch
    {
        3 => "fletcher32",
        4 => "szip",
        5 => "nbit",
        6 => "scale-offset",
        _ => stored.Length > 0 ? stored : "unnamed",
    };

    static object Property(object target, string name) =>
        (target.GetType().GetProperty(name, Members) ?? throw new MissingMemberException(target.GetType().Name, name)).GetValue(target)!;
}
