using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Sessions.Hosting;

/// <summary>
/// Options a host needs while it is being built (ports, cluster ids), before any options are resolved: bound and
/// checked at once by the same validator that the options system runs for them, so each class has one rule set.
/// </summary>
public static class BuildTimeOptions
{
    public static T Bind<T>(IConfigurationSection section, IValidateOptions<T> validator, T options) where T : class
    {
        section.Bind(options);
        var result = validator.Validate(Options.DefaultName, options);
        return result.Failed ? throw new OptionsValidationException(Options.DefaultName, typeof(T), result.Failures) : options;
    }
}
