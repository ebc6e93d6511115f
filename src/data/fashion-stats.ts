/** Fashion-MNIST constants, with no Node built-ins (src/data/fashion.ts re-exports them). */
/** Pixel statistics of the training set in [0,1] (for normalisation). */
export const FASHION_MEAN = 0.286;
export const FASHION_STD = 0.353;
export const FASHION_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;
