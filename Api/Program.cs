using Scalar.AspNetCore;
using Sessions.Api;
using Sessions.Api.Admin;
using Sessions.Api.Account;
using Sessions.Api.Auth;
using Sessions.Api.Email;
using Sessions.Api.Http;
using Sessions.Api.Keys;
using Sessions.Api.OAuth;
using Sessions.Api.UserSessions;
using Sessions.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddSessionsCluster();
builder.AddSessionsApi();
var management = builder.AddApiManagement();

var app = builder.Build();
app.UseTrustedProxies();
app.UseBrowserHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseCors();
app.UseBrowserClient();
app.UseRateLimiter();
app.UseAuthentication();
app.UseAuthorization();

app.MapAuthApi();
app.MapUserSessionsApi();
app.MapAccountApi();
app.MapKeysApi();
app.MapOAuthApi();
app.MapAdminApi();
app.MapEmailApi();
app.MapDefaultEndpoints(management);
app.MapOpenApi();
if (app.Environment.IsDevelopment())
    app.MapScalarApiReference(scalar => scalar.WithTitle(ApiSetup.OpenApiTitle));

app.Run();

/// <summary>The entry point, visible to WebApplicationFactory.</summary>
public partial class Program;
