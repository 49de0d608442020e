// Shared by Portico's lazy stand-ins for WHATWG objects (the in-process app's Request,
// src/appserver/in-process/lazy-request.ts; the framework's Response, src/framework/lazy-response.ts):
// whatever the stand-in does not answer itself runs on the native object, made on first need.
// The native accessors read private fields, so they cannot run on the stand-in itself.

/**
 * Gives `proto` every accessor and method of `nativeProto` it does not define, each running on
 * `materialize(this)`; the constructor and Symbol.toStringTag (inherited as they are) excepted.
 */
export function delegateToNative<T>(proto: object, nativeProto: object, materialize: (self: T) => object): void {
  for (const key of Reflect.ownKeys(nativeProto)) {
    if (key === 'constructor' || key === Symbol.toStringTag || Object.prototype.hasOwnProperty.call(proto, key)) continue;
    const d = Object.getOwnPropertyDescriptor(nativeProto, key);
    if (d === undefined) continue;
    if (typeof d.get === 'function') {
      const get = d.get;
      Object.defineProperty(proto, key, { get(this: T) { return get.call(materialize(this)); }, enumerable: d.enumerable });
    } else if (typeof d.value === 'function') {
      const fn = d.value as (...args: unknown[]) => unknown;
      Object.defineProperty(proto, key, { value(this: T, ...args: unknown[]) { return fn.apply(materialize(this), args); }, enumerable: d.enumerable, writable: true });
    }
  }
}
