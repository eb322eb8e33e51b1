"""GAN training layer: data, discriminator, losses, training loop and run directories."""
