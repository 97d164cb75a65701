/**
 * What @pulumi/random's resources and RsaKeyPair give under pulumi mocks (which run no provider): values
 * of their real shape, a password named after its resource so that a test can find it in a file.
 */
export function mockedRandomOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  switch (type) {
    case "RandomPassword":
      return { result: `${name}-value` };
    case "RandomBytes": {
      const bytes = Buffer.alloc(Number(inputs.length));
      return { hex: bytes.toString("hex"), base64: bytes.toString("base64") };
    }
    case "RsaKeyPair":
      return { publicKey: "ssh-rsa AAAA", privateKey: "-----BEGIN RSA PRIVATE KEY-----" };
    default:
      return {};
  }
}
