name = input("Your name: ")
print(f"Hello, {name}!")
