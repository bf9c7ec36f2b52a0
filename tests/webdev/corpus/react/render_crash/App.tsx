type User = { profile?: { name: string } };

const users: User[] = [{}];

export default function App() {
  return (
    <ul className="p-4">
      {users.map((user, index) => (
        <li key={index}>{user.profile!.name.toUpperCase()}</li>
      ))}
    </ul>
  );
}
