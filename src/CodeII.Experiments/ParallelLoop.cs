using System.Runtime.ExceptionServices;

namespace CodeII.Experiments;

/// <summary>
/// Parallel.For over all cores (or a cap) that surfaces the first real error, not an AggregateException, so a bad
/// record's located message reaches the user unchanged.
/// </summary>
public static class ParallelLoop
{
    public static void For(int count, int maxDegreeOfParallelism, CancellationToken cancellationToken, Action<int> body)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxDegreeOfParallelism), CancellationToken = cancellationToken }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            var first = e.InnerExceptions.FirstOrDefault(x => x is not OperationCanceledException) ?? e.InnerExceptions[0];
            ExceptionDispatchInfo.Capture(first).Throw();
        }
    }
}
