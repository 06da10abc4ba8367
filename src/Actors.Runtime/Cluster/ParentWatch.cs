using System.Diagnostics;
using System.Globalization;

namespace Actors.Runtime.Cluster;

/// <summary>
/// A node started by another process (<c>actors up</c>) stops when that process is gone, even after a <c>kill -9</c> that
/// left it no chance to stop its children: the parent's pid is in <see cref="Variable"/>, and the node checks twice a second
/// that the parent still lives (on Linux: that it is still this process's parent, so a reused pid does not fool it).
/// </summary>
public sealed class ParentWatch : IDisposable
{
    public const string Variable = "ACTORS_PARENT_PID";

    private readonly CancellationTokenSource _gone = new();
    private readonly Timer? _timer;

    private ParentWatch(int pid, Action<string> say)
    {
        _timer = new Timer(_ =>
        {
            if (_gone.IsCancellationRequested || Alive(pid)) return;
            say($"parent process {pid} is gone: stopping");
            _gone.Cancel();
        }, null, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
    }

    private ParentWatch() { }

    /// <summary>Cancelled once the parent is gone; never when no parent is named.</summary>
    public CancellationToken Token => _gone.Token;

    /// <summary>Watches the pid in <paramref name="value"/> (the variable's value), or nothing when it is unset or not a pid.</summary>
    public static ParentWatch Start(string? value, Action<string> say) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? new ParentWatch(pid, say) : new ParentWatch();

    private static bool Alive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                // /proc/self/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
                var stat = File.ReadAllText("/proc/self/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return int.Parse(fields[1], CultureInfo.InvariantCulture) == pid;
            }
            catch (IOException)
            {
                // fall back to the pid check
            }
        }
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _gone.Dispose();
    }
}
