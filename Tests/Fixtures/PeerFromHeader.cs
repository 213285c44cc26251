using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Sessions.Tests.Fixtures;

/// <summary>The socket peer of a request, as TestServer has none: taken from <see cref="Header"/>, before anything else runs.</summary>
public sealed class PeerFromHeader : IStartupFilter
{
    public const string Header = "X-Test-Peer";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((http, nextMiddleware) =>
        {
            if (IPAddress.TryParse(http.Request.Headers[Header], out var peer))
                http.Connection.RemoteIpAddress = peer;
            return nextMiddleware(http);
        });
        next(app);
    };
}
