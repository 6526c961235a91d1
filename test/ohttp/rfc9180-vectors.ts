/**
 * Known answers of RFC 9180 appendix A (base mode, mode 0) for the suites runtime/ohttp supports:
 * A.1 to A.6 (A.7 is export-only, which OHTTP cannot use). Values copied from the RFC's source text
 * (cfrg/draft-irtf-cfrg-hpke, draft-irtf-cfrg-hpke.md at commit b1f7cb0, the text published as
 * RFC 9180), sections "Base Setup Information", "Encryptions" and "Exported Values".
 */

/** One base-mode vector; every byte string is hex. */
export interface HpkeVector {
  readonly section: string;
  readonly name: string;
  readonly kemId: number;
  readonly kdfId: number;
  readonly aeadId: number;
  readonly info: string;
  readonly ikmE: string;
  readonly pkEm: string;
  readonly skEm: string;
  readonly ikmR: string;
  readonly pkRm: string;
  readonly skRm: string;
  readonly enc: string;
  /** `[sequence number, aad, ct]`; every plaintext is {@link RFC9180_PLAINTEXT}. */
  readonly encryptions: readonly (readonly [number, string, string])[];
  /** `[exporter_context, L, exported_value]`. */
  readonly exports: readonly (readonly [string, number, string])[];
}

/** The plaintext of every appendix A encryption: "Beauty is truth, truth beauty". */
export const RFC9180_PLAINTEXT = "4265617574792069732074727574682c20747275746820626561757479";

export const RFC9180_BASE_VECTORS: readonly HpkeVector[] = [
  {
    section: "A.1",
    name: "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM",
    kemId: 32,
    kdfId: 1,
    aeadId: 1,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikmE: "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
    pkEm: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    skEm: "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
    ikmR: "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
    pkRm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
    skRm: "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
    enc: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
    encryptions: [
      [
        0,
        "436f756e742d30",
        "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a",
      ],
      [
        1,
        "436f756e742d31",
        "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab251c03d0c22a56b8ca42c2063b84",
      ],
      [
        2,
        "436f756e742d32",
        "498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb72516491588d96a19ad4a683518973dcc180",
      ],
      [
        4,
        "436f756e742d34",
        "583bd32bc67a5994bb8ceaca813d369bca7b2a42408cddef5e22f880b631215a09fc0012bc69fccaa251c0246d",
      ],
      [
        255,
        "436f756e742d323535",
        "7175db9717964058640a3a11fb9007941a5d1757fda1a6935c805c21af32505bf106deefec4a49ac38d71c9e0a",
      ],
      [
        256,
        "436f756e742d323536",
        "957f9800542b0b8891badb026d79cc54597cb2d225b54c00c5238c25d05c30e3fbeda97d2e0e1aba483a2df9f2",
      ],
    ],
    exports: [
      ["", 32, "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee"],
      ["00", 32, "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5"],
      ["54657374436f6e74657874", 32, "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931"],
    ],
  },
  {
    section: "A.2",
    name: "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305",
    kemId: 32,
    kdfId: 1,
    aeadId: 3,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikmE: "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
    pkEm: "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
    skEm: "f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600",
    ikmR: "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
    pkRm: "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
    skRm: "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
    enc: "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
    encryptions: [
      [
        0,
        "436f756e742d30",
        "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
      ],
      [
        1,
        "436f756e742d31",
        "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e85285337cc95ba5f59992dc98c",
      ],
      [
        2,
        "436f756e742d32",
        "71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02b4f10ecac6f48c32f878fae86b",
      ],
      [
        4,
        "436f756e742d34",
        "63357a2aa291f5a4e5f27db6baa2af8cf77427c7c1a909e0b37214dd47db122bb153495ff0b02e9e54a50dbe16",
      ],
      [
        255,
        "436f756e742d323535",
        "18ab939d63ddec9f6ac2b60d61d36a7375d2070c9b683861110757062c52b8880a5f6b3936da9cd6c23ef2a95c",
      ],
      [
        256,
        "436f756e742d323536",
        "7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076214c0c40d4c728d6ed9e727a5b",
      ],
    ],
    exports: [
      ["", 32, "4bbd6243b8bb54cec311fac9df81841b6fd61f56538a775e7c80a9f40160606e"],
      ["00", 32, "8c1df14732580e5501b00f82b10a1647b40713191b7c1240ac80e2b68808ba69"],
      ["54657374436f6e74657874", 32, "5acb09211139c43b3090489a9da433e8a30ee7188ba8b0a9a1ccf0c229283e53"],
    ],
  },
  {
    section: "A.3",
    name: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM",
    kemId: 16,
    kdfId: 1,
    aeadId: 1,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikmE: "4270e54ffd08d79d5928020af4686d8f6b7d35dbe470265f1f5aa22816ce860e",
    pkEm: "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4",
    skEm: "4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb",
    ikmR: "668b37171f1072f3cf12ea8a236a45df23fc13b82af3609ad1e354f6ef817550",
    pkRm: "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0",
    skRm: "f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2",
    enc: "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4",
    encryptions: [
      [
        0,
        "436f756e742d30",
        "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434",
      ],
      [
        1,
        "436f756e742d31",
        "fa6f037b47fc21826b610172ca9637e82d6e5801eb31cbd3748271affd4ecb06646e0329cbdf3c3cd655b28e82",
      ],
      [
        2,
        "436f756e742d32",
        "895cabfac50ce6c6eb02ffe6c048bf53b7f7be9a91fc559402cbc5b8dcaeb52b2ccc93e466c28fb55fed7a7fec",
      ],
      [
        4,
        "436f756e742d34",
        "8787491ee8df99bc99a246c4b3216d3d57ab5076e18fa27133f520703bc70ec999dd36ce042e44f0c3169a6a8f",
      ],
      [
        255,
        "436f756e742d323535",
        "2ad71c85bf3f45c6eca301426289854b31448bcf8a8ccb1deef3ebd87f60848aa53c538c30a4dac71d619ee2cd",
      ],
      [
        256,
        "436f756e742d323536",
        "10f179686aa2caec1758c8e554513f16472bd0a11e2a907dde0b212cbe87d74f367f8ffe5e41cd3e9962a6afb2",
      ],
    ],
    exports: [
      ["", 32, "5e9bc3d236e1911d95e65b576a8a86d478fb827e8bdfe77b741b289890490d4d"],
      ["00", 32, "6cff87658931bda83dc857e6353efe4987a201b849658d9b047aab4cf216e796"],
      ["54657374436f6e74657874", 32, "d8f1ea7942adbba7412c6d431c62d01371ea476b823eb697e1f6e6cae1dab85a"],
    ],
  },
  {
    section: "A.4",
    name: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA512, AES-128-GCM",
    kemId: 16,
    kdfId: 3,
    aeadId: 1,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikmE: "4ab11a9dd78c39668f7038f921ffc0993b368171d3ddde8031501ee1e08c4c9a",
    pkEm: "0493ed86735bdfb978cc055c98b45695ad7ce61ce748f4dd63c525a3b8d53a15565c6897888070070c1579db1f86aaa56deb8297e64db7e8924e72866f9a472580",
    skEm: "2292bf14bb6e15b8c81a0f45b7a6e93e32d830e48cca702e0affcfb4d07e1b5c",
    ikmR: "ea9ff7cc5b2705b188841c7ace169290ff312a9cb31467784ca92d7a2e6e1be8",
    pkRm: "04085aa5b665dc3826f9650ccbcc471be268c8ada866422f739e2d531d4a8818a9466bc6b449357096232919ec4fe9070ccbac4aac30f4a1a53efcf7af90610edd",
    skRm: "3ac8530ad1b01885960fab38cf3cdc4f7aef121eaa239f222623614b4079fb38",
    enc: "0493ed86735bdfb978cc055c98b45695ad7ce61ce748f4dd63c525a3b8d53a15565c6897888070070c1579db1f86aaa56deb8297e64db7e8924e72866f9a472580",
    encryptions: [
      [
        0,
        "436f756e742d30",
        "d3cf4984931484a080f74c1bb2a6782700dc1fef9abe8442e44a6f09044c88907200b332003543754eb51917ba",
      ],
      [
        1,
        "436f756e742d31",
        "d14414555a47269dfead9fbf26abb303365e40709a4ed16eaefe1f2070f1ddeb1bdd94d9e41186f124e0acc62d",
      ],
      [
        2,
        "436f756e742d32",
        "9bba136cade5c4069707ba91a61932e2cbedda2d9c7bdc33515aa01dd0e0f7e9d3579bf4016dec37da4aafa800",
      ],
      [
        4,
        "436f756e742d34",
        "a531c0655342be013bf32112951f8df1da643602f1866749519f5dcb09cc68432579de305a77e6864e862a7600",
      ],
      [
        255,
        "436f756e742d323535",
        "be5da649469efbad0fb950366a82a73fefeda5f652ec7d3731fac6c4ffa21a7004d2ab8a04e13621bd3629547d",
      ],
      [
        256,
        "436f756e742d323536",
        "62092672f5328a0dde095e57435edf7457ace60b26ee44c9291110ec135cb0e14b85594e4fea11247d937deb62",
      ],
    ],
    exports: [
      ["", 32, "a32186b8946f61aeead1c093fe614945f85833b165b28c46bf271abf16b57208"],
      ["00", 32, "84998b304a0ea2f11809398755f0abd5f9d2c141d1822def79dd15c194803c2a"],
      ["54657374436f6e74657874", 32, "93fb9411430b2cfa2cf0bed448c46922a5be9beff20e2e621df7e4655852edbc"],
    ],
  },
  {
    section: "A.5",
    name: "DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305",
    kemId: 16,
    kdfId: 1,
    aeadId: 3,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikmE: "f1f1a3bc95416871539ecb51c3a8f0cf608afb40fbbe305c0a72819d35c33f1f",
    pkEm: "04c07836a0206e04e31d8ae99bfd549380b072a1b1b82e563c935c095827824fc1559eac6fb9e3c70cd3193968994e7fe9781aa103f5b50e934b5b2f387e381291",
    skEm: "7550253e1147aae48839c1f8af80d2770fb7a4c763afe7d0afa7e0f42a5b3689",
    ikmR: "61092f3f56994dd424405899154a9918353e3e008171517ad576b900ddb275e7",
    pkRm: "04a697bffde9405c992883c5c439d6cc358170b51af72812333b015621dc0f40bad9bb726f68a5c013806a790ec716ab8669f84f6b694596c2987cf35baba2a006",
    skRm: "a4d1c55836aa30f9b3fbb6ac98d338c877c2867dd3a77396d13f68d3ab150d3b",
    enc: "04c07836a0206e04e31d8ae99bfd549380b072a1b1b82e563c935c095827824fc1559eac6fb9e3c70cd3193968994e7fe9781aa103f5b50e934b5b2f387e381291",
    encryptions: [
      [
        0,
        "436f756e742d30",
        "6469c41c5c81d3aa85432531ecf6460ec945bde1eb428cb2fedf7a29f5a685b4ccb0d057f03ea2952a27bb458b",
      ],
      [
        1,
        "436f756e742d31",
        "f1564199f7e0e110ec9c1bcdde332177fc35c1adf6e57f8d1df24022227ffa8716862dbda2b1dc546c9d114374",
      ],
      [
        2,
        "436f756e742d32",
        "39de89728bcb774269f882af8dc5369e4f3d6322d986e872b3a8d074c7c18e8549ff3f85b6d6592ff87c3f310c",
      ],
      [
        4,
        "436f756e742d34",
        "bc104a14fbede0cc79eeb826ea0476ce87b9c928c36e5e34dc9b6905d91473ec369a08b1a25d305dd45c6c5f80",
      ],
      [
        255,
        "436f756e742d323535",
        "8f2814a2c548b3be50259713c6724009e092d37789f6856553d61df23ebc079235f710e6af3c3ca6eaba7c7c6c",
      ],
      [
        256,
        "436f756e742d323536",
        "b45b69d419a9be7219d8c94365b89ad6951caf4576ea4774ea40e9b7047a09d6537d1aa2f7c12d6ae4b729b4d0",
      ],
    ],
    exports: [
      ["", 32, "9b13c510416ac977b553bf1741018809c246a695f45eff6d3b0356dbefe1e660"],
      ["00", 32, "6c8b7be3a20a5684edecb4253619d9051ce8583baf850e0cb53c402bdcaf8ebb"],
      ["54657374436f6e74657874", 32, "477a50d804c7c51941f69b8e32fe8288386ee1a84905fe4938d58972f24ac938"],
    ],
  },
  {
    section: "A.6",
    name: "DHKEM(P-521, HKDF-SHA512), HKDF-SHA512, AES-256-GCM",
    kemId: 18,
    kdfId: 3,
    aeadId: 2,
    info: "4f6465206f6e2061204772656369616e2055726e",
    ikmE: "7f06ab8215105fc46aceeb2e3dc5028b44364f960426eb0d8e4026c2f8b5d7e7a986688f1591abf5ab753c357a5d6f0440414b4ed4ede71317772ac98d9239f70904",
    pkEm: "040138b385ca16bb0d5fa0c0665fbbd7e69e3ee29f63991d3e9b5fa740aab8900aaeed46ed73a49055758425a0ce36507c54b29cc5b85a5cee6bae0cf1c21f2731ece2013dc3fb7c8d21654bb161b463962ca19e8c654ff24c94dd2898de12051f1ed0692237fb02b2f8d1dc1c73e9b366b529eb436e98a996ee522aef863dd5739d2f29b0",
    skEm: "014784c692da35df6ecde98ee43ac425dbdd0969c0c72b42f2e708ab9d535415a8569bdacfcc0a114c85b8e3f26acf4d68115f8c91a66178cdbd03b7bcc5291e374b",
    ikmR: "2ad954bbe39b7122529f7dde780bff626cd97f850d0784a432784e69d86eccaade43b6c10a8ffdb94bf943c6da479db137914ec835a7e715e36e45e29b587bab3bf1",
    pkRm: "0401b45498c1714e2dce167d3caf162e45e0642afc7ed435df7902ccae0e84ba0f7d373f646b7738bbbdca11ed91bdeae3cdcba3301f2457be452f271fa6837580e661012af49583a62e48d44bed350c7118c0d8dc861c238c72a2bda17f64704f464b57338e7f40b60959480c0e58e6559b190d81663ed816e523b6b6a418f66d2451ec64",
    skRm: "01462680369ae375e4b3791070a7458ed527842f6a98a79ff5e0d4cbde83c27196a3916956655523a6a2556a7af62c5cadabe2ef9da3760bb21e005202f7b2462847",
    enc: "040138b385ca16bb0d5fa0c0665fbbd7e69e3ee29f63991d3e9b5fa740aab8900aaeed46ed73a49055758425a0ce36507c54b29cc5b85a5cee6bae0cf1c21f2731ece2013dc3fb7c8d21654bb161b463962ca19e8c654ff24c94dd2898de12051f1ed0692237fb02b2f8d1dc1c73e9b366b529eb436e98a996ee522aef863dd5739d2f29b0",
    encryptions: [
      [
        0,
        "436f756e742d30",
        "170f8beddfe949b75ef9c387e201baf4132fa7374593dfafa90768788b7b2b200aafcc6d80ea4c795a7c5b841a",
      ],
      [
        1,
        "436f756e742d31",
        "d9ee248e220ca24ac00bbbe7e221a832e4f7fa64c4fbab3945b6f3af0c5ecd5e16815b328be4954a05fd352256",
      ],
      [
        2,
        "436f756e742d32",
        "142cf1e02d1f58d9285f2af7dcfa44f7c3f2d15c73d460c48c6e0e506a3144bae35284e7e221105b61d24e1c7a",
      ],
      [
        4,
        "436f756e742d34",
        "3bb3a5a07100e5a12805327bf3b152df728b1c1be75a9fd2cb2bf5eac0cca1fb80addb37eb2a32938c7268e3e5",
      ],
      [
        255,
        "436f756e742d323535",
        "4f268d0930f8d50b8fd9d0f26657ba25b5cb08b308c92e33382f369c768b558e113ac95a4c70dd60909ad1adc7",
      ],
      [
        256,
        "436f756e742d323536",
        "dbbfc44ae037864e75f136e8b4b4123351d480e6619ae0e0ae437f036f2f8f1ef677686323977a1ccbb4b4f16a",
      ],
    ],
    exports: [
      ["", 32, "05e2e5bd9f0c30832b80a279ff211cc65eceb0d97001524085d609ead60d0412"],
      ["00", 32, "fca69744bb537f5b7a1596dbf34eaa8d84bf2e3ee7f1a155d41bd3624aa92b63"],
      ["54657374436f6e74657874", 32, "f389beaac6fcf6c0d9376e20f97e364f0609a88f1bc76d7328e9104df8477013"],
    ],
  },
];
