using System.Net;
using System.Net.Sockets;

namespace Sessions.Tests.Infrastructure;

public static class FreePorts
{
    /// <summary>The first of <paramref name="count"/> consecutive loopback ports that are free now.</summary>
    public static int Consecutive(int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var start = Random.Shared.Next(20000, 40000);
            if (Enumerable.Range(start, count).All(IsFree))
                return start;
        }
        throw new InvalidOperationException($"No {count} consecutive free ports found.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
