/** Module face of `images`: reproducible OCI images of the services (`attestctl image build --target oci`). */
export {
  buildImages,
  type BuildImagesOptions,
  type BuiltImage,
  type BuiltImages,
  IMAGE_SOFTHSM_MODULE,
  IMAGE_USER,
  readImageLock,
  SERVICE_IMAGES,
  type ServiceImage,
} from "./build.js";
export { IMAGE_ERROR_CODES, IMAGE_ERROR_MEANINGS, ImageError, type ImageErrorCode } from "./errors.js";
export { fetchPinned, inputCacheDir, type ImageLock, parseImageLock } from "./inputs.js";
export { digestOf, MEDIA, readLayout, type ResolvedImage, writeLayout } from "./oci.js";
export { parentDirs, type TarEntry, writeTar } from "./tar.js";
export { readTar } from "./untar.js";
export { unpackImage } from "./unpack.js";
export { buildGuestImage, type BuildGuestOptions, type BuiltGuest, GUEST_RUNTIME_CONFIG } from "./guest.js";
