// An API of your own, protected by Sessions' access tokens with ASP.NET Core's stock JwtBearer handler: it is told
// the issuer, and finds the signing keys there (discovery, then JWKS). Nothing here checks a signature by hand.
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Sessions.Samples.AspNetApi;

var builder = WebApplication.CreateBuilder(args);
var sessions = builder.Configuration.GetSection("Sessions");

// --- validation: begin
builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
{
    options.Authority = sessions["Issuer"];        // discovery: {issuer}/.well-known/openid-configuration
    options.Audience = sessions["Audience"];       // Sessions' Api:Audience, "sessions-api" by default
    options.RequireHttpsMetadata = !builder.Environment.IsDevelopment();
    options.MapInboundClaims = false;              // keep the claim names Sessions writes: sub, sid, email, role
    options.TokenValidationParameters.ValidTypes = ["at+jwt"];  // access tokens only (RFC 9068), never an ID token
    options.TokenValidationParameters.RoleClaimType = "role";   // so RequireRole("admin") reads Sessions' role claim
    options.TokenValidationParameters.NameClaimType = "sub";
    options.TokenValidationParameters.ClockSkew = sessions.GetValue("ClockSkew", TimeSpan.FromSeconds(30));
});
// --- validation: end

// --- instant revocation: begin
// Opt-in: a signed token stays valid until it expires (15 minutes), even after a logout. With a backend client of
// scope "introspect", every token is also checked with Sessions (RFC 7662), its answer kept for a second at most.
if (sessions.GetSection("Introspection").Get<IntrospectionOptions>() is { ClientId.Length: > 0 } introspection)
{
    builder.Services.AddSingleton(introspection);
    builder.Services.AddHttpClient<LiveSessions>();
    builder.Services.AddMemoryCache();
    builder.Services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
        options.Events = new JwtBearerEvents
        {
            OnTokenValidated = context => context.HttpContext.RequestServices.GetRequiredService<LiveSessions>().CheckAsync(context),
        });
}
// --- instant revocation: end

builder.Services.AddAuthorizationBuilder().AddPolicy("admin", policy => policy.RequireRole("admin"));
// A browser app on another origin calls this API with the access token it holds in memory.
builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
    policy.WithOrigins(builder.Configuration.GetSection("Cors:Origins").Get<string[]>() ?? []).WithHeaders("Authorization").WithMethods("GET")));

var app = builder.Build();
app.UseCors();
app.UseAuthentication();
app.UseAuthorization();

var checkedWith = app.Services.GetService<IntrospectionOptions>() is null ? "signature" : "signature and introspection";
app.MapGet("/hello", (HttpContext http) => new
{
    message = $"Hello from your API, {http.User.FindFirst("email")?.Value}",
    userId = http.User.FindFirst("sub")?.Value,
    sessionId = http.User.FindFirst("sid")?.Value,
    roles = http.User.FindAll("role").Select(c => c.Value),
    checkedWith,
}).RequireAuthorization();
app.MapGet("/admin", () => new { message = "Only admins see this." }).RequireAuthorization("admin");
app.MapGet("/health", () => "ok");

app.Run();
