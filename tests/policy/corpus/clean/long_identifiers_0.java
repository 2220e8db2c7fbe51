public class AbstractSingletonProxyFactoryBeanTokenizerConfigurationManager {
    private final TokenizerConfigurationProviderRegistryFactory tokenizerConfigurationProviderRegistryFactory;
    private int maxTokens = 4096;
    public String passwordResetEmailTemplateName() { return "password_reset_email"; }
}
