using System.Reflection;
using Microsoft.ML;

namespace CodeII.Experiments.Sweep;

/// <summary>
/// Runs an ML.NET fit so that cancellation returns within moments. ML.NET's trainers check their context's
/// cancellation flag between steps, which we set (the switch is internal, so by reflection); LightGBM's boosting loop
/// checks nothing (dotnet/machinelearning #6465), so the fit runs on its own thread and a cancelled caller stops
/// waiting for it. Its result is then discarded, and its thread ends with the boosting (or with the process).
/// </summary>
public static class Cancellable
{
    static readonly MethodInfo? CancelExecution = typeof(MLContext).GetInterfaces()
        .FirstOrDefault(i => i.Name == "ICancelable")?.GetMethod("CancelExecution");

    static int _running;

    /// <summary>Fits still running, including abandoned ones. A process that exits while one runs in native code must
    /// not run the runtime's shutdown under it (that crashes); the CLI then ends the process at once instead.</summary>
    public static int Running => Volatile.Read(ref _running);

    /// <summary>Waits until every abandoned fit has ended, or the timeout passes; true when none is left. A process
    /// that goes on after a cancelled sweep (a notebook, a test run) can call it before starting heavy work again.</summary>
    public static bool WaitForAbandonedFits(TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Running > 0 && clock.Elapsed < timeout) Thread.Sleep(50);
        return Running == 0;
    }

    public static T Run<T>(MLContext ml, Func<T> fit, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!cancellationToken.CanBeCanceled) return fit();
        using var registration = cancellationToken.Register(() => CancelExecution?.Invoke(ml, null));
        var task = Task.Factory.StartNew(() =>
        {
            Interlocked.Increment(ref _running);
            try { return fit(); }
            finally { Interlocked.Decrement(ref _running); }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            task.Wait(cancellationToken);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException(cancellationToken);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return task.Result;
    }
}

/// <summary>The process's peak resident memory, as Linux reports it (VmHWM), or .NET's peak working set elsewhere.</summary>
public static class ProcessMemory
{
    public static double PeakResidentMb()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1e6;
    }
}
